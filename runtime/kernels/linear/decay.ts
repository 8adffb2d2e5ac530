// Decay in log space: fixed per-head lambdas and GLA log-gates become one per-token log-decay tensor
// [BH, L, gd] (gd = 1 for lambdas only, dk with gates); cumulative sums are always taken from the start
// of the chunk or block, and only differences c_r - c_s <= 0 are exponentiated (no lambda^-r blow-ups).
import * as tf from "@tensorflow/tfjs-core";
import { gpuKernels } from "../gpu-hooks.ts";
import type { Tensor } from "./types.ts";

/** log(lambda) per head as [BH, 1, 1], or null. */
function logLambdas(lambdas: Float32Array | null): Tensor | null {
  if (!lambdas) return null;
  return tf.tensor3d(Float32Array.from(lambdas, (l) => Math.log(l)), [lambdas.length, 1, 1]);
}

/** Per-token log-decay [BH, C, gd] of the whole local sequence (gates plus log lambda), or null. */
export function logDecay(g: Tensor | null, lambdas: Float32Array | null, bh: number, c: number): Tensor | null {
  const ll = logLambdas(lambdas);
  if (g && ll) return tf.add(g, ll);
  if (g) return g;
  if (ll) return tf.broadcastTo(ll, [bh, c, 1]);
  return null;
}

/** Tokens [off, off+len) of a [BH, C, d] tensor. */
export function sliceTokens(x: Tensor, off: number, len: number): Tensor {
  if (off === 0 && len === x.shape[1]) return x; // the whole sequence: no copy
  return tf.slice(x, [0, off, 0], [-1, len, -1]);
}

/**
 * Cumulative sum along the token axis of [X, L, d] (tf.cumsum(x, 1, exclusive, reverse)). On WebGPU it runs
 * as the fused block scan (one invocation per (X, d) row): tfjs-webgpu's own cumsum takes i32(pow(2.0, k))
 * for its strides, which a software Vulkan device (lavapipe) rounds down, and its reverse sums came out wrong
 * there.
 */
export function cumsumTokens(x: Tensor, exclusive: boolean, reverse: boolean): Tensor {
  const gpu = gpuKernels(false);
  if (gpu === null) return tf.cumsum(x, 1, exclusive, reverse);
  const [X, L, d] = x.shape as [number, number, number];
  const ex = tf.reshape(gpu.scanBlocks(tf.reshape(x, [X * L, 1, d]), null, X, L, reverse), [X, L, d]);
  return exclusive ? ex : tf.add(ex, x);
}

/** Cumulative log-decay c_r (inclusive) along axis 1 of [X, L, gd]; c_r <= 0. */
export function cumLog(l: Tensor | null): Tensor | null {
  return l ? cumsumTokens(l, false, false) : null;
}

/** Total log-decay of the span (c at the last token) as [X, gd]. */
export function totalLog(c: Tensor): Tensor {
  const len = c.shape[1]!;
  return tf.squeeze(tf.slice(c, [0, len - 1, 0], [-1, 1, -1]), [1]);
}

/** Factor of a query read of the incoming state: exp(c_r) (products of gates 0..r). */
export function readFactor(c: Tensor): Tensor {
  return tf.exp(c);
}

/** Factor of a key written into the outgoing state: exp(A - c_r) (products of gates r+1..L-1). */
export function writeFactor(c: Tensor): Tensor {
  const len = c.shape[1]!;
  const a = tf.slice(c, [0, len - 1, 0], [-1, 1, -1]);
  return tf.exp(tf.sub(a, c));
}

/** Log-decay [BH, gd] a whole chunk applies to a state it carries: gates' total, or len * log lambda. */
export function chunkLogDecay(a: Tensor | null, len: number, lambdas: Float32Array | null): Tensor | null {
  if (a) return a;
  if (lambdas) return tf.tensor2d(Float32Array.from(lambdas, (l) => len * Math.log(l)), [lambdas.length, 1]);
  return null;
}

/** diag(exp(logA)) S for a state S [BH, dk, dv] and logA [BH, gd] (null: identity). */
export function decayState(s: Tensor, logA: Tensor | null): Tensor {
  if (!logA) return s;
  return tf.mul(tf.expandDims(tf.exp(logA), 2), s);
}
