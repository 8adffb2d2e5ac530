// Token embedding: a row gather forward, a scatter-add of the rows' gradients into dW backward.
// API: embedding(ids Int32Array [T], w [V, D]) -> [T, D];
//      embeddingBackward(ids Int32Array [T], dy [T, D], vocab) -> dW [V, D] (repeated ids summed).
import * as tf from "@tensorflow/tfjs-core";

export function embedding(ids: Int32Array, w: tf.Tensor2D): tf.Tensor2D {
  const v = w.shape[0];
  for (const id of ids) if (id < 0 || id >= v) throw new RangeError(`embedding: token id ${id} outside 0..${v - 1}`);
  return tf.tidy(() => tf.gather(w, tf.tensor1d(ids, "int32")));
}

export function embeddingBackward(ids: Int32Array, dy: tf.Tensor2D, vocab: number): tf.Tensor2D {
  const [t, d] = dy.shape;
  if (ids.length !== t) throw new Error(`embeddingBackward: ${ids.length} ids for ${t} rows`);
  // ScatterNd sums updates at repeated indices (the scatter-add this backward needs)
  return tf.tidy(() => tf.scatterND(tf.tensor2d(ids, [t, 1], "int32"), dy, [vocab, d]));
}
