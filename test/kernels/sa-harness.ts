// Test harness for softmax attention under simulated sequence parallelism: token gather/scatter per
// rank (by partition.ts positions) and float64 <-> tfjs conversion. The "communication" is plain JS.
import * as tf from "@tensorflow/tfjs-core";

/** Rows `pos` (token axis) of a [heads, n, d] array, as [heads, pos.length, d]. */
export function takeTokens(a: Float64Array, heads: number, n: number, d: number, pos: ArrayLike<number>): Float64Array {
  const out = new Float64Array(heads * pos.length * d);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < pos.length; i++)
      for (let c = 0; c < d; c++) out[(h * pos.length + i) * d + c] = a[(h * n + pos[i]!) * d + c]!;
  return out;
}

/** Adds a [heads, pos.length, d] array into rows `pos` of a [heads, n, d] array. */
export function addTokens(
  into: Float64Array,
  part: ArrayLike<number>,
  heads: number,
  n: number,
  d: number,
  pos: ArrayLike<number>,
): void {
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < pos.length; i++)
      for (let c = 0; c < d; c++) into[(h * n + pos[i]!) * d + c]! += part[(h * pos.length + i) * d + c]!;
}

/** Heads `ids` (axis 0) of a [heads, n, d] array. */
export function takeHeads(a: Float64Array, n: number, d: number, ids: readonly number[]): Float64Array {
  const out = new Float64Array(ids.length * n * d);
  ids.forEach((h, i) => out.set(a.subarray(h * n * d, (h + 1) * n * d), i * n * d));
  return out;
}

export function addHeads(into: Float64Array, part: ArrayLike<number>, n: number, d: number, ids: readonly number[]): void {
  ids.forEach((h, i) => {
    for (let x = 0; x < n * d; x++) into[h * n * d + x]! += part[i * n * d + x]!;
  });
}

export function t3(a: Float64Array, heads: number, n: number, d: number): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(a), [heads, n, d]);
}

export function read(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync());
}

export function concatF64(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function concatI32(parts: readonly Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Token-axis concat of [heads, n_r, d] arrays (an AllGather of K or V in rank order). */
export function gatherTokens(parts: readonly Float64Array[], lens: readonly number[], heads: number, d: number): Float64Array {
  const n = lens.reduce((s, x) => s + x, 0);
  const out = new Float64Array(heads * n * d);
  for (let h = 0; h < heads; h++) {
    let off = 0;
    parts.forEach((p, r) => {
      const len = lens[r]!;
      out.set(p.subarray(h * len * d, (h + 1) * len * d), (h * n + off) * d);
      off += len;
    });
  }
  return out;
}
