// The masked diagonal tile of the blocked intra-chunk product, forward and backward: within a block,
// o_r = sum_{s<=r} (q_r . k_s decayed by exp(c_r - c_s)) v_s. The mask keeps s <= r (diagonal included);
// decays are exponentiated only as min(c_r - c_s, 0), so masked-out entries never overflow.
import * as tf from "@tensorflow/tfjs-core";
import { expFast } from "../simd/exp.ts";
import { matMul, simdMatMulActive } from "../simd/matmul.ts";
import { mulRows } from "../simd/scan.ts";
import { gpuKernels } from "../gpu-hooks.ts";
import type { BlockGrid } from "./blocks.ts";
import type { Tensor } from "./types.ts";

/**
 * Diagonal-tile weights that are the same in every block of a BH row (no gates): e [R, b, b] = the causal
 * mask, times lambda_h^(r-s) per head when the decay is fixed (R = BH), or the mask alone (R = 1); applied
 * by the SIMD kernel broadcast over the row's blocks (J = X / R). Built in float64. Null on backends where
 * the kernels do not run (the tile then builds its weights from c with tfjs ops).
 */
export interface FixedTile {
  readonly e: Tensor;
  readonly R: number;
  readonly J: number;
}

export function fixedTile(lambdas: Float32Array | null, gr: BlockGrid): FixedTile | null {
  if (!simdMatMulActive()) return null;
  const b = gr.b;
  const R = lambdas === null ? 1 : gr.bh;
  const e = new Float32Array(R * b * b);
  for (let h = 0; h < R; h++) {
    const lam = lambdas === null ? 1 : lambdas[h]!;
    for (let r = 0; r < b; r++) for (let s = 0; s <= r; s++) e[(h * b + r) * b + s] = lam === 1 ? 1 : Math.pow(lam, r - s);
  }
  return { e: tf.tensor3d(e, [R, b, b]), R, J: (gr.bh * gr.nb) / R };
}

/** Lower-triangular ones [b, b] (diagonal included). */
function causalMask(b: number): Tensor {
  const m = new Float32Array(b * b);
  for (let r = 0; r < b; r++) for (let s = 0; s <= r; s++) m[r * b + s] = 1;
  return tf.tensor2d(m, [b, b]);
}

/** the scores' upper triangle is masked away: the SIMD kernel may skip it (simd/gemm-gen.ts TRI) */
const LOWER = { tri: "outLower" } as const;

interface Tile {
  /** scores A[x, r, s] with decay and mask applied */
  a: Tensor;
  /** decay-and-mask weights: [X, b, b] (scalar decay or none) or [X, b, b, dk] (gates) */
  e: Tensor;
  /** true when e has a per-key-dim axis */
  perDim: boolean;
}

function tile(q: Tensor, k: Tensor, c: Tensor | null, fixed: FixedTile | null): Tile {
  const b = q.shape[1]!;
  if (fixed !== null) {
    const a = mulRows(matMul(q, k, false, true, LOWER), fixed.e, fixed.R, fixed.J);
    if (a !== null) return { a, e: fixed.e, perDim: false };
  }
  const mask = causalMask(b);
  if (!c) return { a: tf.mul(matMul(q, k, false, true, LOWER), mask), e: mask, perDim: false };
  if (c.shape[2] === 1) {
    const diff = tf.sub(c, tf.transpose(c, [0, 2, 1]));
    const e = tf.mul(expFast(tf.minimum(diff, 0)), mask);
    return { a: tf.mul(matMul(q, k, false, true, LOWER), e), e, perDim: false };
  }
  // c_r - c_s per key dim: [X, b(r), b(s), dk]
  const diff = tf.sub(tf.expandDims(c, 2), tf.expandDims(c, 1));
  const e = tf.mul(expFast(tf.minimum(diff, 0)), tf.expandDims(mask, 2));
  const a = tf.sum(tf.mul(tf.mul(tf.expandDims(q, 2), tf.expandDims(k, 1)), e), 3);
  return { a, e, perDim: true };
}

/** The fused GPU tile product when one is installed and the decay is scalar per token (or absent). */
function gpuTile(c: Tensor | null) {
  const gpu = gpuKernels();
  return gpu !== null && (c === null || c.shape[2] === 1) ? gpu : null;
}

/** Diagonal-tile output [X, b, dv] of blocks q, k [X, b, dk], v [X, b, dv]. */
export function diagForward(q: Tensor, k: Tensor, v: Tensor, c: Tensor | null, fixed: FixedTile | null = null): Tensor {
  const gpu = gpuTile(c);
  if (gpu !== null) return gpu.tileAttend(q, k, v, c, false);
  return matMul(tile(q, k, c, fixed).a, v, false, false, { tri: "aLower" });
}

/** Gradients of the diagonal tile given dO [X, b, dv]. */
export function diagBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  c: Tensor | null,
  dO: Tensor,
  fixed: FixedTile | null = null,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const gpu = gpuTile(c);
  if (gpu !== null)
    return { dq: gpu.tileAttend(dO, v, k, c, false), dk: gpu.tileAttend(v, dO, q, c, true), dv: gpu.tileAttend(k, q, dO, c, true) };
  const t = tile(q, k, c, fixed);
  const dov = matMul(dO, v, false, true, LOWER); // [X, r, s] = dO_r . v_s (only r >= s is used)
  const dv = matMul(t.a, dO, true, false, { tri: t.perDim ? "none" : "aUpper" });
  if (!t.perDim) {
    const w = (fixed !== null ? mulRows(dov, fixed.e, fixed.R, fixed.J) : null) ?? tf.mul(dov, t.e);
    return { dq: matMul(w, k, false, false, { tri: "aLower" }), dk: matMul(w, q, true, false, { tri: "aUpper" }), dv };
  }
  const w = tf.mul(tf.expandDims(dov, 3), t.e); // [X, r, s, dk]
  return {
    dq: tf.sum(tf.mul(w, tf.expandDims(k, 1)), 2),
    dk: tf.sum(tf.mul(w, tf.expandDims(q, 2)), 1),
    dv,
  };
}
