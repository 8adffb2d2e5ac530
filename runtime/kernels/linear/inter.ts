// Inter-chunk terms: what the state P entering each local segment adds to its outputs, and the
// gradients that P (forward) and G (the gradient leaving the segment's state) add to dq, dk, dv, dg.
import * as tf from "@tensorflow/tfjs-core";
import { cumLog, cumsumTokens, decayState, logDecay, sliceTokens, totalLog } from "./decay.ts";
import { spanRead, spanReadBwdQ, spanState, spanWriteBwd } from "./span.ts";
import { checkTokens, segRanges, tidyRecord, type LaGrads, type LaOpts, type Tensor } from "./types.ts";

function checkStates(x: Tensor, opts: LaOpts, what: string): void {
  if (x.rank !== 4 || x.shape[0] !== opts.segLens.length)
    throw new Error(`linear attention: ${what} must be [S=${opts.segLens.length}, BH, dk, dv], got [${x.shape.join(",")}]`);
}

/** O [BH, C, dv] = oIntra + (q_r * exp(c_r)) P_seg per segment (lambda^(r+1) q_r P for fixed decay). */
export function laInter(q: Tensor, p: Tensor, oIntra: Tensor, g: Tensor | null, opts: LaOpts): Tensor {
  const [bh, c] = checkTokens(opts, g, q, oIntra);
  checkStates(p, opts, "P");
  return tf.tidy(() => {
    const l = logDecay(g, opts.lambdas, bh, c);
    const ps = tf.unstack(p);
    // one segment: the product accumulates onto oIntra itself (no concat, no separate add)
    if (opts.segLens.length === 1 && c > 0) return spanRead(q, cumLog(l), ps[0]!, oIntra);
    const parts: Tensor[] = [];
    segRanges(opts.segLens).forEach(([off, len], i) => {
      if (len === 0) return;
      const cs = cumLog(l ? sliceTokens(l, off, len) : null);
      parts.push(spanRead(sliceTokens(q, off, len), cs, ps[i]!));
    });
    return parts.length > 0 ? tf.add(oIntra, tf.concat(parts, 1)) : tf.clone(oIntra);
  });
}

/**
 * Full gradients: intra (from laBwdIntra) plus the inter terms, given P (forward prefix, [S,...]) and
 * G (laSuffix, [S,...]): dq += exp(c) * (dO P^T); dk += exp(A - c) * (v G^T); dv += k~ G; and with gates
 * dg += revcumsum(q*dq_P - k*dk_G) + rowsum(G * P_next), P_next = diag(exp A) P + M.
 */
export function laBwdInter(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  g: Tensor | null,
  dO: Tensor,
  p: Tensor,
  gsuf: Tensor,
  intra: LaGrads,
  opts: LaOpts,
): LaGrads {
  const [bh, c] = checkTokens(opts, g, q, k, v, dO);
  checkStates(p, opts, "P");
  checkStates(gsuf, opts, "G");
  if (g && !intra.dg) throw new Error("linear attention: gated backward needs the intra dg");
  return tidyRecord(() => {
    const l = logDecay(g, opts.lambdas, bh, c);
    const ps = tf.unstack(p);
    const gs = tf.unstack(gsuf);
    if (opts.segLens.length === 1 && c > 0 && !g) {
      // one segment, no gates: the products accumulate onto the intra gradients (no concat, no separate add)
      const cs = cumLog(l);
      const w = spanWriteBwd(k, v, cs, gs[0]!, { dk: intra.dk, dv: intra.dv });
      return { dq: spanReadBwdQ(dO, cs, ps[0]!, intra.dq), dk: w.dk, dv: w.dv, dg: null };
    }
    const dqs: Tensor[] = [];
    const dks: Tensor[] = [];
    const dvs: Tensor[] = [];
    const dgs: Tensor[] = [];
    segRanges(opts.segLens).forEach(([off, len], i) => {
      if (len === 0) return;
      const [qs, ks, vs, ds] = [q, k, v, dO].map((x) => sliceTokens(x, off, len)) as [Tensor, Tensor, Tensor, Tensor];
      const cs = cumLog(l ? sliceTokens(l, off, len) : null);
      const dqP = spanReadBwdQ(ds, cs, ps[i]!);
      const w = spanWriteBwd(ks, vs, cs, gs[i]!);
      dqs.push(dqP);
      dks.push(w.dk);
      dvs.push(w.dv);
      if (g && cs) {
        const pNext = tf.add(decayState(ps[i]!, totalLog(cs)), spanState(ks, vs, cs));
        const row = tf.expandDims(tf.sum(tf.mul(gs[i]!, pNext), 2), 1);
        const x = tf.sub(tf.mul(qs, dqP), tf.mul(ks, w.dk));
        dgs.push(tf.add(cumsumTokens(x, false, true), row));
      }
    });
    const plus = (base: Tensor, xs: Tensor[]): Tensor => (xs.length > 0 ? tf.add(base, tf.concat(xs, 1)) : tf.clone(base));
    return {
      dq: plus(intra.dq, dqs),
      dk: plus(intra.dk, dks),
      dv: plus(intra.dv, dvs),
      dg: g && intra.dg ? plus(intra.dg, dgs) : null,
    };
  });
}
