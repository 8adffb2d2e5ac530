// Token embedding: a row gather forward, a scatter-add of the rows' gradients into dW backward.
// API: embedding(ids Int32Array [T], w [V, D]) -> [T, D];
//      embeddingBackward(ids Int32Array [T], dy [T, D], vocab) -> dW [V, D] (repeated ids summed).
import * as tf from "@tensorflow/tfjs-core";
import { kernelSite } from "./simd/heap.ts";
import { simdMatMulActive } from "./simd/matmul.ts";

export function embedding(ids: Int32Array, w: tf.Tensor2D): tf.Tensor2D {
  const v = w.shape[0];
  for (const id of ids) if (id < 0 || id >= v) throw new RangeError(`embedding: token id ${id} outside 0..${v - 1}`);
  if (simdMatMulActive() && w.dtype === "float32") return gatherRows(ids, w);
  return tf.tidy(() => tf.gather(w, tf.tensor1d(ids, "int32")));
}

/**
 * The gather as row copies inside the kernels' memory (on the wasm backend, the backend's own heap): tfjs-wasm's
 * Gather took ~300 ms for 32K rows of 128 floats here, these copies a few ms.
 */
function gatherRows(ids: Int32Array, w: tf.Tensor2D): tf.Tensor2D {
  const d = w.shape[1];
  const site = kernelSite();
  try {
    const src = site.offset(w) / 4;
    const out = site.output([ids.length, d]);
    const f32 = new Float32Array(site.heap.mem.buffer); // after the output's allocation: the heap may have grown
    const dst = out.ptr / 4;
    for (let i = 0; i < ids.length; i++) f32.copyWithin(dst + i * d, src + ids[i]! * d, src + (ids[i]! + 1) * d);
    return out.done() as tf.Tensor2D;
  } finally {
    site.release();
  }
}

export function embeddingBackward(ids: Int32Array, dy: tf.Tensor2D, vocab: number): tf.Tensor2D {
  const [t, d] = dy.shape;
  if (ids.length !== t) throw new Error(`embeddingBackward: ${ids.length} ids for ${t} rows`);
  // ScatterNd sums updates at repeated indices (the scatter-add this backward needs)
  return tf.tidy(() => tf.scatterND(tf.tensor2d(ids, [t, 1], "int32"), dy, [vocab, d]));
}
