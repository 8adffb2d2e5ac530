// Products of a batch of spans (chunks or blocks) [X, L, d] with a state that enters or leaves them:
// the write (state of the span), the read (queries times the incoming state) and their gradients.
// c is the span's cumulative log-decay [X, L, gd] from its own start, or null when nothing decays.
import * as tf from "@tensorflow/tfjs-core";
import { matMul } from "../simd/matmul.ts";
import { readFactor, writeFactor } from "./decay.ts";
import type { Tensor } from "./types.ts";

/** Keys as written into the outgoing state: k_r * exp(A - c_r). */
export function writtenKeys(k: Tensor, c: Tensor | null): Tensor {
  return c ? tf.mul(k, writeFactor(c)) : k;
}

/** Queries as they read the incoming state: q_r * exp(c_r). */
export function readingQueries(q: Tensor, c: Tensor | null): Tensor {
  return c ? tf.mul(q, readFactor(c)) : q;
}

/** M = sum_r (k_r * exp(A - c_r))^T v_r  -> [X, dk, dv] */
export function spanState(k: Tensor, v: Tensor, c: Tensor | null): Tensor {
  return matMul(writtenKeys(k, c), v, true, false);
}

/** o_r = (q_r * exp(c_r)) P  -> [X, L, dv] (+ add, accumulated by the product, when given) */
export function spanRead(q: Tensor, c: Tensor | null, p: Tensor, add?: Tensor): Tensor {
  return matMul(readingQueries(q, c), p, false, false, { add });
}

/** D = sum_r (q_r * exp(c_r))^T dO_r: gradient w.r.t. the incoming state -> [X, dk, dv] */
export function spanReadGrad(q: Tensor, c: Tensor | null, dO: Tensor): Tensor {
  return matMul(readingQueries(q, c), dO, true, false);
}

/** dq of the read: exp(c_r) * (dO_r P^T) (+ add when given) */
export function spanReadBwdQ(dO: Tensor, c: Tensor | null, p: Tensor, add?: Tensor): Tensor {
  if (!c) return matMul(dO, p, false, true, { add });
  const dq = tf.mul(matMul(dO, p, false, true), readFactor(c));
  return add ? tf.add(add, dq) : dq;
}

/**
 * dk, dv of the write given G, the gradient w.r.t. the outgoing state: dk = exp(A - c) * (v G^T), dv = k~ G
 * (+ add.dk, add.dv when given).
 */
export function spanWriteBwd(k: Tensor, v: Tensor, c: Tensor | null, gOut: Tensor, add?: { dk: Tensor; dv: Tensor }): { dk: Tensor; dv: Tensor } {
  const dv = matMul(writtenKeys(k, c), gOut, false, false, { add: add?.dv });
  if (!c) return { dk: matMul(v, gOut, false, true, { add: add?.dk }), dv };
  const dk = tf.mul(matMul(v, gOut, false, true), writeFactor(c));
  return { dk: add ? tf.add(add.dk, dk) : dk, dv };
}
