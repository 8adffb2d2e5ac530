// Feature maps of linear attention on [BH, C, d] (applied to q and k), forward and backward.
// identity; elu1 = elu(x)+1; relu; silu = x sigmoid(x); square = x^2 (Rebased, without its affine);
// taylor2 (Based): [1, x / d^(1/4), vec(x outer x) / (sqrt(2) sqrt(d))], width 1 + d + d^2, entry
// 1 + d + i*d + j = x_i x_j / (sqrt 2 sqrt d); so phi(q).phi(k) = 1 + q.k/sqrt(d) + (q.k)^2 / (2d).
// API: featureDim(kind, d); featureForward(kind, x) -> y; featureBackward(kind, x, dy) -> dx.
import * as tf from "@tensorflow/tfjs-core";
import type { FeatureMap } from "../../dsl/spec.ts";
import { compute, jsKernelsActive } from "./cpu/arrays.ts";

export function featureDim(kind: FeatureMap, d: number): number {
  return kind === "taylor2" ? 1 + d + d * d : d;
}

function taylorForward(x: tf.Tensor3D): tf.Tensor3D {
  const [bh, c, d] = x.shape;
  const outer = tf.mul(tf.reshape(x, [bh, c, d, 1]), tf.reshape(x, [bh, c, 1, d]));
  return tf.concat(
    [tf.ones([bh, c, 1]), tf.mul(x, Math.pow(d, -0.25)), tf.mul(tf.reshape(outer, [bh, c, d * d]), 1 / Math.sqrt(2 * d))],
    2,
  ) as tf.Tensor3D;
}

function taylorBackward(x: tf.Tensor3D, dy: tf.Tensor3D): tf.Tensor3D {
  const [bh, c, d] = x.shape;
  const d1 = tf.slice(dy, [0, 0, 1], [bh, c, d]);
  const d2 = tf.reshape(tf.slice(dy, [0, 0, 1 + d], [bh, c, d * d]), [bh, c, d, d]);
  // d/dx_a sum_ij D_ij x_i x_j = sum_j D_aj x_j + sum_i D_ia x_i
  const rows = tf.sum(tf.mul(d2, tf.reshape(x, [bh, c, 1, d])), 3);
  const cols = tf.sum(tf.mul(d2, tf.reshape(x, [bh, c, d, 1])), 2);
  return tf.add(tf.mul(d1, Math.pow(d, -0.25)), tf.mul(tf.add(rows, cols), 1 / Math.sqrt(2 * d))) as tf.Tensor3D;
}

/** The elementwise maps as one JS loop each (CPU backends): y = f(x), and dx = dy f'(x). */
const ELEMENTWISE: Partial<Record<FeatureMap, { f: (x: number) => number; df: (x: number) => number }>> = {
  elu1: { f: (x) => (x > 0 ? x + 1 : Math.exp(x)), df: (x) => (x > 0 ? 1 : Math.exp(x)) },
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
  silu: {
    f: (x) => x / (1 + Math.exp(-x)),
    df: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    },
  },
  square: { f: (x) => x * x, df: (x) => 2 * x },
};

export function featureForward(kind: FeatureMap, x: tf.Tensor3D): tf.Tensor3D {
  const js = ELEMENTWISE[kind];
  if (js !== undefined && jsKernelsActive())
    return compute(x.shape, [x], (y, [xv]) => {
      for (let i = 0; i < y.length; i++) y[i] = js.f(xv![i]!);
    }) as tf.Tensor3D;
  return tf.tidy(() => {
    switch (kind) {
      case "identity":
        return tf.clone(x);
      case "elu1":
        return tf.add(tf.elu(x), 1) as tf.Tensor3D;
      case "relu":
        return tf.relu(x);
      case "silu":
        return tf.mul(x, tf.sigmoid(x)) as tf.Tensor3D;
      case "square":
        return tf.square(x);
      case "taylor2":
        return taylorForward(x);
      default:
        return kind satisfies never;
    }
  });
}

export function featureBackward(kind: FeatureMap, x: tf.Tensor3D, dy: tf.Tensor3D): tf.Tensor3D {
  const js = ELEMENTWISE[kind];
  if (js !== undefined && jsKernelsActive())
    return compute(x.shape, [x, dy], (dx, [xv, dyv]) => {
      for (let i = 0; i < dx.length; i++) dx[i] = dyv![i]! * js.df(xv![i]!);
    }) as tf.Tensor3D;
  return tf.tidy(() => {
    switch (kind) {
      case "identity":
        return tf.clone(dy);
      case "elu1":
        return tf.mul(dy, tf.where(tf.greater(x, 0), tf.onesLike(x), tf.exp(tf.minimum(x, 0)))) as tf.Tensor3D;
      case "relu":
        return tf.mul(dy, tf.step(x)) as tf.Tensor3D;
      case "silu": {
        const sig = tf.sigmoid(x);
        return tf.mul(dy, tf.mul(sig, tf.add(1, tf.mul(x, tf.sub(1, sig))))) as tf.Tensor3D;
      }
      case "square":
        return tf.mul(dy, tf.mul(2, x)) as tf.Tensor3D;
      case "taylor2":
        return taylorBackward(x, dy);
      default:
        return kind satisfies never;
    }
  });
}
