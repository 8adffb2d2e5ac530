// Softmax attention per rank (LASP-2H, ring, Ulysses): blocked online softmax with causal masks from
// global positions, GQA without repeating K/V. No communication inside: the plan moves K/V between calls.
// API: saForward(q, k, v, posQ, posK, opts) -> {o, lse}; saMerge(a, b) -> {o, lse};
//      saBackward(q, k, v, o, lse, dO, posQ, posK, opts) -> {dq, dk, dv} (re-exported); SA_EMPTY_LSE.
import * as tf from "@tensorflow/tfjs-core";
import { expFast } from "./simd/exp.ts";
import { matMul } from "./simd/matmul.ts";
import { qRows, saDims, type SaOptions, type SaPartial } from "./softmax-common.ts";
import { blockMask, SA_EMPTY_LSE } from "./softmax-mask.ts";
import { gpuKernels } from "./gpu-hooks.ts";

export { saBackward, type SaGrads } from "./softmax-attention-backward.ts";
export { SA_EMPTY_LSE } from "./softmax-mask.ts";
export type { SaOptions, SaPartial } from "./softmax-common.ts";

/** Smallest row sum used as a divisor: a row with no visible key has l = 0 and acc = 0, so o = 0. */
const TINY = 1e-30;

type RowState = {
  m: tf.Tensor3D;
  l: tf.Tensor3D;
  acc: tf.Tensor3D;
};

/**
 * q [BH, Cq, dk], k [BHkv, Ck, dk], v [BHkv, Ck, dv] -> o [BH, Cq, dv], lse [BH, Cq].
 * Tiles of block x block; a key tile no query of the query tile can see is skipped. A query row that
 * sees no key gets o = 0 and lse = SA_EMPTY_LSE (finite), so saMerge of partial results is NaN-free.
 */
export function saForward(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  posQ: Int32Array,
  posK: Int32Array,
  opts: SaOptions,
): SaPartial {
  const d = saDims(q, k, v, posQ, posK, opts);
  const gpu = gpuKernels();
  if (gpu !== null && d.cq > 0 && d.ck > 0)
    return tf.tidy(() => gpu.saForward(q, k, v, tf.tensor1d(posQ, "int32"), tf.tensor1d(posK, "int32"), { ...d, causal: opts.causal }));
  return tf.tidy(() => {
    const qg = tf.reshape(q, [d.bhkv, d.groups, d.cq, d.dk]) as tf.Tensor4D;
    const oBlocks: tf.Tensor4D[] = [];
    const lseBlocks: tf.Tensor3D[] = [];
    for (let q0 = 0; q0 < d.cq; q0 += d.block) {
      const bq = Math.min(d.block, d.cq - q0);
      const rows = d.groups * bq;
      const qb = tf.mul(qRows(qg, q0, bq), d.scale) as tf.Tensor3D;
      let st: RowState = {
        m: tf.fill([d.bhkv, rows, 1], SA_EMPTY_LSE) as tf.Tensor3D,
        l: tf.zeros([d.bhkv, rows, 1]) as tf.Tensor3D,
        acc: tf.zeros([d.bhkv, rows, d.dv]) as tf.Tensor3D,
      };
      for (let k0 = 0; k0 < d.ck; k0 += d.block) {
        const bk = Math.min(d.block, d.ck - k0);
        const mask = blockMask(posQ, q0, bq, posK, k0, bk, opts.causal, d.groups);
        if (mask.kind === "skip") continue;
        const next = tf.tidy((): RowState => {
          const kb = tf.slice(k, [0, k0, 0], [d.bhkv, bk, d.dk]);
          const vb = tf.slice(v, [0, k0, 0], [d.bhkv, bk, d.dv]);
          let s = matMul(qb, kb, false, true);
          if (mask.kind === "mask") s = tf.add(s, tf.tensor2d(mask.bias, [rows, bk]));
          const m = tf.maximum(st.m, tf.max(s, -1, true));
          const alpha = tf.exp(tf.sub(st.m, m));
          let p = expFast(tf.sub(s, m));
          // rows still without a visible key have m = SA_EMPTY_LSE, where masked scores give exp(0)
          if (mask.kind === "mask") p = tf.mul(p, tf.tensor2d(mask.keep, [rows, bk]));
          const l = tf.add(tf.mul(st.l, alpha), tf.sum(p, -1, true));
          const acc = tf.add(tf.mul(st.acc, alpha), matMul(p, vb));
          return { m: m as tf.Tensor3D, l: l as tf.Tensor3D, acc: acc as tf.Tensor3D };
        });
        tf.dispose([st.m, st.l, st.acc]);
        st = next;
      }
      const lClamped = tf.maximum(st.l, TINY);
      oBlocks.push(tf.reshape(tf.div(st.acc, lClamped), [d.bhkv, d.groups, bq, d.dv]));
      lseBlocks.push(tf.reshape(tf.add(st.m, tf.log(lClamped)), [d.bhkv, d.groups, bq]));
    }
    const o = tf.reshape(oBlocks.length === 0 ? tf.zeros([0]) : tf.concat(oBlocks, 2), [d.bh, d.cq, d.dv]);
    const lse = tf.reshape(lseBlocks.length === 0 ? tf.zeros([0]) : tf.concat(lseBlocks, 2), [d.bh, d.cq]);
    return { o: o as tf.Tensor3D, lse: lse as tf.Tensor2D };
  });
}

/**
 * Combines two results over disjoint key sets of the same queries (ring attention):
 * lse = logaddexp(a.lse, b.lse), o = a.o exp(a.lse - lse) + b.o exp(b.lse - lse).
 * lse values below SA_EMPTY_LSE (e.g. -Infinity) are treated as "no key seen".
 */
export function saMerge(a: SaPartial, b: SaPartial): SaPartial {
  return tf.tidy(() => {
    const la = tf.maximum(a.lse, SA_EMPTY_LSE);
    const lb = tf.maximum(b.lse, SA_EMPTY_LSE);
    const mx = tf.maximum(la, lb);
    const lse = tf.add(mx, tf.log(tf.add(tf.exp(tf.sub(la, mx)), tf.exp(tf.sub(lb, mx)))));
    const wa = tf.expandDims(tf.exp(tf.sub(la, lse)), -1);
    const wb = tf.expandDims(tf.exp(tf.sub(lb, lse)), -1);
    const o = tf.add(tf.mul(a.o, wa), tf.mul(b.o, wb));
    return { o: o as tf.Tensor3D, lse: lse as tf.Tensor2D };
  });
}
