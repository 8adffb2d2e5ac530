// Rotary position embedding on [BH, C, d] with global token positions (Llama / HF "rotate_half" halves).
// For half = floor(d/2), i < half: angle = pos * theta^(-2i / (2*half)); channel i pairs with i + half:
//   y_i = x_i cos - x_{i+half} sin,  y_{i+half} = x_{i+half} cos + x_i sin;  an odd last channel passes through.
// API: rope(x, pos Int32Array [C], theta) -> y; ropeBackward(dy, pos, theta) -> dx (the inverse rotation).
import * as tf from "@tensorflow/tfjs-core";

/** cos and sin tables [C, half], computed in float64 from the integer positions. */
function tables(pos: Int32Array, half: number, theta: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const cos = new Float32Array(pos.length * half);
  const sin = new Float32Array(pos.length * half);
  for (let c = 0; c < pos.length; c++)
    for (let i = 0; i < half; i++) {
      const a = pos[c]! * Math.pow(theta, -(2 * i) / (2 * half));
      cos[c * half + i] = Math.cos(a);
      sin[c * half + i] = Math.sin(a);
    }
  return { cos: tf.tensor2d(cos, [pos.length, half]), sin: tf.tensor2d(sin, [pos.length, half]) };
}

/** Rotates by +angle (sign 1) or -angle (sign -1). */
function rotate(x: tf.Tensor3D, pos: Int32Array, theta: number, sign: 1 | -1): tf.Tensor3D {
  const [bh, c, d] = x.shape;
  if (pos.length !== c) throw new Error(`rope: ${pos.length} positions for ${c} tokens`);
  const half = Math.floor(d / 2);
  if (half === 0) return tf.clone(x);
  return tf.tidy(() => {
    const { cos, sin: s } = tables(pos, half, theta);
    const sin = sign === 1 ? s : tf.neg(s);
    const x1 = tf.slice(x, [0, 0, 0], [bh, c, half]);
    const x2 = tf.slice(x, [0, 0, half], [bh, c, half]);
    const y1 = tf.sub(tf.mul(x1, cos), tf.mul(x2, sin));
    const y2 = tf.add(tf.mul(x2, cos), tf.mul(x1, sin));
    const parts = [y1, y2];
    if (d > 2 * half) parts.push(tf.slice(x, [0, 0, 2 * half], [bh, c, d - 2 * half]));
    return tf.concat(parts, 2) as tf.Tensor3D;
  });
}

export function rope(x: tf.Tensor3D, pos: Int32Array, theta: number): tf.Tensor3D {
  return rotate(x, pos, theta, 1);
}

export function ropeBackward(dy: tf.Tensor3D, pos: Int32Array, theta: number): tf.Tensor3D {
  return rotate(dy, pos, theta, -1);
}
