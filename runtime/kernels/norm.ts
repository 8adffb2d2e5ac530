// RMSNorm and LayerNorm over the last axis of [T, D] with a weight (LayerNorm: optional bias).
// API: rmsNorm(x, w, eps) -> y = x / sqrt(mean(x^2) + eps) * w; rmsNormBackward(x, w, dy, eps) -> {dx, dw};
//      layerNorm(x, w, b|null, eps) -> (x - mean) / sqrt(var + eps) * w + b (biased var);
//      layerNormBackward(x, w, dy, eps) -> {dx, dw, db}.
import * as tf from "@tensorflow/tfjs-core";

export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w));
}

export function rmsNormBackward(
  x: tf.Tensor2D,
  w: tf.Tensor1D,
  dy: tf.Tensor2D,
  eps: number,
): { dx: tf.Tensor2D; dw: tf.Tensor1D } {
  return tf.tidy(() => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps));
    const xh = tf.mul(x, r);
    const dxh = tf.mul(dy, w);
    // dx = r (dxh - xh mean(dxh xh))
    const dx = tf.mul(r, tf.sub(dxh, tf.mul(xh, tf.mean(tf.mul(dxh, xh), -1, true))));
    return { dx: dx as tf.Tensor2D, dw: tf.sum(tf.mul(dy, xh), 0) as tf.Tensor1D };
  });
}

function normalise(x: tf.Tensor2D, eps: number): { xh: tf.Tensor2D; r: tf.Tensor2D } {
  const mu = tf.mean(x, -1, true);
  const xc = tf.sub(x, mu);
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps)) as tf.Tensor2D;
  return { xh: tf.mul(xc, r) as tf.Tensor2D, r };
}

export function layerNorm(x: tf.Tensor2D, w: tf.Tensor1D, b: tf.Tensor1D | null, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const y: tf.Tensor2D = tf.mul(normalise(x, eps).xh, w);
    return b === null ? y : (tf.add(y, b) as tf.Tensor2D);
  });
}

export function layerNormBackward(
  x: tf.Tensor2D,
  w: tf.Tensor1D,
  dy: tf.Tensor2D,
  eps: number,
): { dx: tf.Tensor2D; dw: tf.Tensor1D; db: tf.Tensor1D } {
  return tf.tidy(() => {
    const { xh, r } = normalise(x, eps);
    const dxh = tf.mul(dy, w);
    // dx = r (dxh - mean(dxh) - xh mean(dxh xh))
    const dx = tf.mul(
      r,
      tf.sub(tf.sub(dxh, tf.mean(dxh, -1, true)), tf.mul(xh, tf.mean(tf.mul(dxh, xh), -1, true))),
    );
    return {
      dx: dx as tf.Tensor2D,
      dw: tf.sum(tf.mul(dy, xh), 0) as tf.Tensor1D,
      db: tf.sum(dy, 0) as tf.Tensor1D,
    };
  });
}
