// The masked diagonal tile of the blocked intra-chunk product, forward and backward: within a block,
// o_r = sum_{s<=r} (q_r . k_s decayed by exp(c_r - c_s)) v_s. The mask keeps s <= r (diagonal included);
// decays are exponentiated only as min(c_r - c_s, 0), so masked-out entries never overflow.
import * as tf from "@tensorflow/tfjs-core";
import type { Tensor } from "./types.ts";

/** Lower-triangular ones [b, b] (diagonal included). */
function causalMask(b: number): Tensor {
  const m = new Float32Array(b * b);
  for (let r = 0; r < b; r++) for (let s = 0; s <= r; s++) m[r * b + s] = 1;
  return tf.tensor2d(m, [b, b]);
}

interface Tile {
  /** scores A[x, r, s] with decay and mask applied */
  a: Tensor;
  /** decay-and-mask weights: [X, b, b] (scalar decay or none) or [X, b, b, dk] (gates) */
  e: Tensor;
  /** true when e has a per-key-dim axis */
  perDim: boolean;
}

function tile(q: Tensor, k: Tensor, c: Tensor | null): Tile {
  const b = q.shape[1]!;
  const mask = causalMask(b);
  if (!c) return { a: tf.mul(tf.matMul(q, k, false, true), mask), e: mask, perDim: false };
  if (c.shape[2] === 1) {
    const diff = tf.sub(c, tf.transpose(c, [0, 2, 1]));
    const e = tf.mul(tf.exp(tf.minimum(diff, 0)), mask);
    return { a: tf.mul(tf.matMul(q, k, false, true), e), e, perDim: false };
  }
  // c_r - c_s per key dim: [X, b(r), b(s), dk]
  const diff = tf.sub(tf.expandDims(c, 2), tf.expandDims(c, 1));
  const e = tf.mul(tf.exp(tf.minimum(diff, 0)), tf.expandDims(mask, 2));
  const a = tf.sum(tf.mul(tf.mul(tf.expandDims(q, 2), tf.expandDims(k, 1)), e), 3);
  return { a, e, perDim: true };
}

/** Diagonal-tile output [X, b, dv] of blocks q, k [X, b, dk], v [X, b, dv]. */
export function diagForward(q: Tensor, k: Tensor, v: Tensor, c: Tensor | null): Tensor {
  return tf.matMul(tile(q, k, c).a, v);
}

/** Gradients of the diagonal tile given dO [X, b, dv]. */
export function diagBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  c: Tensor | null,
  dO: Tensor,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const t = tile(q, k, c);
  const dov = tf.matMul(dO, v, false, true); // [X, r, s] = dO_r . v_s
  const dv = tf.matMul(t.a, dO, true, false);
  if (!t.perDim) {
    const w = tf.mul(dov, t.e);
    return { dq: tf.matMul(w, k), dk: tf.matMul(w, q, true, false), dv };
  }
  const w = tf.mul(tf.expandDims(dov, 3), t.e); // [X, r, s, dk]
  return {
    dq: tf.sum(tf.mul(w, tf.expandDims(k, 1)), 2),
    dk: tf.sum(tf.mul(w, tf.expandDims(q, 2)), 1),
    dv,
  };
}
