// Softmax cross-entropy over [T, V] logits with integer targets (-1 = not scored, e.g. MQAR context) and
// an explicit normaliser (loss = sum over scored local tokens / normaliser; the SP/DP sum happens outside).
// API: crossEntropy(logits, targets Int32Array [T], normaliser) -> scalar loss;
//      crossEntropyBackward(logits, targets, normaliser, dloss = 1) -> dlogits [T, V];
//      accuracy(logits, targets) -> scalar count of scored tokens whose argmax equals the target.
import * as tf from "@tensorflow/tfjs-core";
import { expFast } from "./simd/exp.ts";

/** One-hot targets and 0/1 scored weights; ids outside the vocabulary (other than -1) are an error. */
function targetsOf(targets: Int32Array, t: number, v: number): { onehot: tf.Tensor2D; scored: tf.Tensor2D } {
  if (targets.length !== t) throw new Error(`crossEntropy: ${targets.length} targets for ${t} rows`);
  const ids = new Int32Array(t);
  const scored = new Float32Array(t);
  targets.forEach((y, i) => {
    if (y === -1) return;
    if (y < 0 || y >= v) throw new RangeError(`crossEntropy: target ${y} outside 0..${v - 1}`);
    ids[i] = y;
    scored[i] = 1;
  });
  return {
    onehot: tf.oneHot(tf.tensor1d(ids, "int32"), v) as tf.Tensor2D,
    scored: tf.tensor2d(scored, [t, 1]),
  };
}

/** log softmax over the last axis with our SIMD exp on wasm (tf.logSoftmax's exp is scalar there). */
function logSoftmax(x: tf.Tensor2D): tf.Tensor2D {
  const z = tf.sub(x, tf.max(x, -1, true));
  return tf.sub(z, tf.log(tf.sum(expFast(z), -1, true))) as tf.Tensor2D;
}

/** softmax over the last axis, one exp per value (as logSoftmax) */
function softmax(x: tf.Tensor2D): tf.Tensor2D {
  const e = expFast(tf.sub(x, tf.max(x, -1, true)));
  return tf.div(e, tf.sum(e, -1, true)) as tf.Tensor2D;
}

export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array, normaliser: number): tf.Scalar {
  const [t, v] = logits.shape;
  return tf.tidy(() => {
    const { onehot, scored } = targetsOf(targets, t, v);
    const logp = logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, onehot), -1, true);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, scored))), normaliser) as tf.Scalar;
  });
}

export function crossEntropyBackward(
  logits: tf.Tensor2D,
  targets: Int32Array,
  normaliser: number,
  dloss = 1,
): tf.Tensor2D {
  const [t, v] = logits.shape;
  return tf.tidy(() => {
    const { onehot, scored } = targetsOf(targets, t, v);
    return tf.mul(tf.sub(softmax(logits), onehot), tf.mul(scored, dloss / normaliser)) as tf.Tensor2D;
  });
}

export function accuracy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  const [t, v] = logits.shape;
  return tf.tidy(() => {
    const { scored } = targetsOf(targets, t, v);
    const hit = tf.cast(tf.equal(tf.argMax(logits, -1), tf.tensor1d(targets, "int32")), "float32");
    return tf.sum(tf.mul(hit, tf.reshape(scored, [t]))) as tf.Scalar;
  });
}
