// Layout changes between token-major activations and attention tensors, and GQA's repeat_kv.
// API: heads(x [B*C, n*d], batch, n) -> [B*n, C, d]; unheads(y [B*n, C, d], batch) -> [B*C, n*d]
//      (each is the other's backward; token index b*C + c, head index b*n + h);
//      repeatKv(x [B*Hkv, C, d], groups) -> [B*Hkv*groups, C, d] (head i = kv head floor(i/groups));
//      repeatKvBackward(dy [B*H, C, d], groups) -> [B*Hkv, C, d] (sum over the groups).
import * as tf from "@tensorflow/tfjs-core";

export function heads(x: tf.Tensor2D, batch: number, n: number): tf.Tensor3D {
  const [bc, nd] = x.shape;
  const c = bc / batch;
  const d = nd / n;
  if (!Number.isInteger(c) || !Number.isInteger(d)) throw new Error(`heads: [${x.shape}] with batch ${batch}, ${n} heads`);
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [batch, c, n, d]), [0, 2, 1, 3]), [batch * n, c, d]));
}

export function unheads(y: tf.Tensor3D, batch: number): tf.Tensor2D {
  const [bn, c, d] = y.shape;
  const n = bn / batch;
  if (!Number.isInteger(n)) throw new Error(`unheads: [${y.shape}] with batch ${batch}`);
  return tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(y, [batch, n, c, d]), [0, 2, 1, 3]), [batch * c, n * d]));
}

export function repeatKv(x: tf.Tensor3D, groups: number): tf.Tensor3D {
  const [bhkv, c, d] = x.shape;
  if (groups === 1) return tf.clone(x);
  return tf.tidy(() => tf.reshape(tf.tile(tf.reshape(x, [bhkv, 1, c, d]), [1, groups, 1, 1]), [bhkv * groups, c, d]));
}

export function repeatKvBackward(dy: tf.Tensor3D, groups: number): tf.Tensor3D {
  const [bh, c, d] = dy.shape;
  if (bh % groups !== 0) throw new Error(`repeatKvBackward: ${bh} heads, groups ${groups}`);
  if (groups === 1) return tf.clone(dy);
  return tf.tidy(() => tf.sum(tf.reshape(dy, [bh / groups, groups, c, d]), 1));
}
