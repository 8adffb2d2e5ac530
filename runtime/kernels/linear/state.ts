// Per-segment states that cross ranks: M (what a chunk adds to the running state, forward) with the
// chunk's log gate product a, and D (what a chunk's outputs ask of the state entering it, backward).
import * as tf from "@tensorflow/tfjs-core";
import { cumLog, logDecay, sliceTokens, totalLog } from "./decay.ts";
import { spanReadGrad, spanState } from "./span.ts";
import { checkTokens, segRanges, tidyRecord, type LaOpts, type Tensor } from "./types.ts";

/**
 * M [S, BH, dk, dv]: M = sum_r (k_r * exp(A - c_r))^T v_r per segment (lambda^(L-1-r) for fixed decay).
 * a [S, BH, dk]: log of the product of the segment's gates (lambda folded in), only when g is given.
 */
export function laState(
  k: Tensor,
  v: Tensor,
  g: Tensor | null,
  opts: LaOpts,
): { m: Tensor; a: Tensor | null } {
  const [bh, c] = checkTokens(opts, g, k, v);
  const [dk, dv] = [k.shape[2]!, v.shape[2]!];
  return tidyRecord(() => {
    const l = logDecay(g, opts.lambdas, bh, c);
    const ms: Tensor[] = [];
    const as: Tensor[] = [];
    for (const [off, len] of segRanges(opts.segLens)) {
      if (len === 0) {
        ms.push(tf.zeros([bh, dk, dv]));
        as.push(tf.zeros([bh, dk]));
        continue;
      }
      const cs = cumLog(l ? sliceTokens(l, off, len) : null);
      ms.push(spanState(sliceTokens(k, off, len), sliceTokens(v, off, len), cs));
      if (g && cs) as.push(totalLog(cs));
    }
    return { m: tf.stack(ms), a: g ? tf.stack(as) : null };
  });
}

/** D [S, BH, dk, dv]: D = sum_r (q_r * exp(c_r))^T dO_r per segment (lambda^(r+1) for fixed decay). */
export function laBwdState(q: Tensor, dO: Tensor, g: Tensor | null, opts: LaOpts): Tensor {
  const [bh, c] = checkTokens(opts, g, q, dO);
  return tf.tidy(() => {
    const l = logDecay(g, opts.lambdas, bh, c);
    const ds = segRanges(opts.segLens).map(([off, len]) =>
      len === 0
        ? tf.zeros([bh, q.shape[2]!, dO.shape[2]!])
        : spanReadGrad(sliceTokens(q, off, len), cumLog(l ? sliceTokens(l, off, len) : null), sliceTokens(dO, off, len)),
    );
    return tf.stack(ds);
  });
}
