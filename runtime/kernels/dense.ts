// Token-wise dense ops of the model, forward and backward: matmul, SwiGLU, GELU (tanh approximation).
// API: matmul(x [T,in], w [in,out]) -> [T,out]; matmulBackward(x, w, dy) -> {dx, dw};
//      swiglu(g, u) -> silu(g)*u; swigluBackward(g, u, dy) -> {dg, du};
//      gelu(x) -> 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))); geluBackward(x, dy) -> dx.
import * as tf from "@tensorflow/tfjs-core";
import { matMul } from "./simd/matmul.ts";

export function matmul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return matMul(x, w);
}

export function matmulBackward(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  dy: tf.Tensor2D,
): { dx: tf.Tensor2D; dw: tf.Tensor2D } {
  return { dx: matMul(dy, w, false, true), dw: matMul(x, dy, true, false) };
}

export function swiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(g, tf.sigmoid(g)), u));
}

export function swigluBackward(g: tf.Tensor, u: tf.Tensor, dy: tf.Tensor): { dg: tf.Tensor; du: tf.Tensor } {
  return tf.tidy(() => {
    const sig = tf.sigmoid(g);
    const silu = tf.mul(g, sig);
    // d silu / dg = sig (1 + g (1 - sig))
    const dsilu = tf.mul(sig, tf.add(1, tf.mul(g, tf.sub(1, sig))));
    return { dg: tf.mul(tf.mul(dy, u), dsilu), du: tf.mul(dy, silu) };
  });
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tanh(tf.mul(GELU_C, tf.add(x, tf.mul(GELU_A, tf.pow(x, 3)))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, t));
  });
}

export function geluBackward(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const x2 = tf.square(x);
    const t = tf.tanh(tf.mul(GELU_C, tf.mul(x, tf.add(1, tf.mul(GELU_A, x2)))));
    // 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
    const inner = tf.mul(GELU_C, tf.add(1, tf.mul(3 * GELU_A, x2)));
    const d = tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(tf.mul(tf.mul(0.5, x), tf.sub(1, tf.square(t))), inner));
    return tf.mul(dy, d);
  });
}
