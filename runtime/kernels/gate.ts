// GLA gate projection: log-gates g = logsigmoid(h W1 W2) / tau (<= 0) from a low-rank projection, with a
// hand-written backward (the tfjs-core node bundle registers no autodiff gradients, so tf.grads throws).
// API: gateProj(h [T,D], w1 [D,r], w2 [r,G], tau) -> g [T,G]; gateProjBackward(h, w1, w2, dg, tau) -> {dh, dw1, dw2}.
import * as tf from "@tensorflow/tfjs-core";
import { matMul } from "./simd/matmul.ts";

export function gateProj(h: tf.Tensor2D, w1: tf.Tensor2D, w2: tf.Tensor2D, tau: number): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.logSigmoid(matMul(matMul(h, w1), w2)), tau) as tf.Tensor2D);
}

export function gateProjBackward(
  h: tf.Tensor2D,
  w1: tf.Tensor2D,
  w2: tf.Tensor2D,
  dg: tf.Tensor2D,
  tau: number,
): { dh: tf.Tensor2D; dw1: tf.Tensor2D; dw2: tf.Tensor2D } {
  return tf.tidy(() => {
    const a = matMul(h, w1);
    const z = matMul(a, w2);
    // d logsigmoid(z) / dz = sigmoid(-z)
    const dz = tf.mul(tf.div(dg, tau), tf.sigmoid(tf.neg(z))) as tf.Tensor2D;
    const da = matMul(dz, w2, false, true);
    return {
      dh: matMul(da, w1, false, true),
      dw1: matMul(h, da, true, false),
      dw2: matMul(a, dz, true, false),
    };
  });
}
