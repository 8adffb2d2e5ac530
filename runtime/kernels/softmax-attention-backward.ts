// Softmax-attention backward per rank, tiled like the forward. Uses the FINAL lse and D = rowsum(dO*o),
// so calling it once per received key block (ring) or once on gathered K/V (LASP-2H) is exact.
// API: saBackward(q, k, v, o, lse, dO, posQ, posK, opts) -> {dq [BH,Cq,dk], dk [BHkv,Ck,dk], dv [BHkv,Ck,dv]}.
import * as tf from "@tensorflow/tfjs-core";
import { expFast } from "./simd/exp.ts";
import { matMul } from "./simd/matmul.ts";
import { qRows, saDims, type SaOptions } from "./softmax-common.ts";
import { blockMask } from "./softmax-mask.ts";
import { gpuKernels } from "./gpu-hooks.ts";

export interface SaGrads {
  readonly dq: tf.Tensor3D;
  /** partial sums over this rank's queries for every key passed in (GQA groups already summed) */
  readonly dk: tf.Tensor3D;
  readonly dv: tf.Tensor3D;
}

function addInto(acc: (tf.Tensor3D | null)[], at: number, t: tf.Tensor3D): void {
  const old = acc[at] ?? null;
  if (old === null) {
    acc[at] = tf.keep(t);
    return;
  }
  acc[at] = tf.keep(tf.add(old, t) as tf.Tensor3D);
  old.dispose();
}

/**
 * P = exp(S - lse) on visible keys; dV += P^T dO; dS = P (dO V^T - D); dQ += dS K scale;
 * dK += dS^T Q scale. o and lse must be the final results over ALL keys the queries attend to.
 */
export function saBackward(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  o: tf.Tensor3D,
  lse: tf.Tensor2D,
  dO: tf.Tensor3D,
  posQ: Int32Array,
  posK: Int32Array,
  opts: SaOptions,
): SaGrads {
  const d = saDims(q, k, v, posQ, posK, opts);
  const gpu = gpuKernels();
  if (gpu !== null && d.cq > 0 && d.ck > 0)
    return tf.tidy(() => gpu.saBackward(q, k, v, o, lse, dO, tf.tensor1d(posQ, "int32"), tf.tensor1d(posK, "int32"), { ...d, causal: opts.causal }));
  const nk = Math.ceil(d.ck / d.block);
  const dkAcc: (tf.Tensor3D | null)[] = new Array<tf.Tensor3D | null>(nk).fill(null);
  const dvAcc: (tf.Tensor3D | null)[] = new Array<tf.Tensor3D | null>(nk).fill(null);
  try {
    return tf.tidy(() => {
      const qg = tf.reshape(q, [d.bhkv, d.groups, d.cq, d.dk]) as tf.Tensor4D;
      const dOg = tf.reshape(dO, [d.bhkv, d.groups, d.cq, d.dv]) as tf.Tensor4D;
      const lseg = tf.reshape(lse, [d.bhkv, d.groups, d.cq, 1]) as tf.Tensor4D;
      const Dg = tf.reshape(tf.sum(tf.mul(dO, o), -1), [d.bhkv, d.groups, d.cq, 1]) as tf.Tensor4D;
      const dqBlocks: tf.Tensor4D[] = [];
      for (let q0 = 0; q0 < d.cq; q0 += d.block) {
        const bq = Math.min(d.block, d.cq - q0);
        const rows = d.groups * bq;
        const qb = tf.mul(qRows(qg, q0, bq), d.scale) as tf.Tensor3D;
        const dOb = qRows(dOg, q0, bq);
        const lseb = qRows(lseg, q0, bq);
        const Db = qRows(Dg, q0, bq);
        let dqb = tf.zeros([d.bhkv, rows, d.dk]) as tf.Tensor3D;
        for (let k0 = 0, kb = 0; k0 < d.ck; k0 += d.block, kb++) {
          const bk = Math.min(d.block, d.ck - k0);
          const mask = blockMask(posQ, q0, bq, posK, k0, bk, opts.causal, d.groups);
          if (mask.kind === "skip") continue;
          const next = tf.tidy(() => {
            const kt = tf.slice(k, [0, k0, 0], [d.bhkv, bk, d.dk]);
            const vt = tf.slice(v, [0, k0, 0], [d.bhkv, bk, d.dv]);
            let s = matMul(qb, kt, false, true);
            if (mask.kind === "mask") s = tf.add(s, tf.tensor2d(mask.bias, [rows, bk]));
            // s <= lse holds for exact lse; the clamp only guards exp() against overflow to Infinity
            let p = expFast(tf.minimum(tf.sub(s, lseb), 0));
            if (mask.kind === "mask") p = tf.mul(p, tf.tensor2d(mask.keep, [rows, bk]));
            addInto(dvAcc, kb, matMul(p, dOb, true, false));
            const ds = tf.mul(p, tf.sub(matMul(dOb, vt, false, true), Db));
            addInto(dkAcc, kb, matMul(ds, qb, true, false));
            return tf.add(dqb, matMul(ds, kt)) as tf.Tensor3D;
          });
          dqb.dispose();
          dqb = next;
        }
        dqBlocks.push(tf.reshape(tf.mul(dqb, d.scale), [d.bhkv, d.groups, bq, d.dk]) as tf.Tensor4D);
      }
      const dq = tf.reshape(dqBlocks.length === 0 ? tf.zeros([0]) : tf.concat(dqBlocks, 2), [d.bh, d.cq, d.dk]) as tf.Tensor3D;
      const cat = (acc: (tf.Tensor3D | null)[], w: number): tf.Tensor3D => {
        const parts = acc.map((t, i) => t ?? (tf.zeros([d.bhkv, Math.min(d.block, d.ck - i * d.block), w]) as tf.Tensor3D));
        return parts.length === 0 ? (tf.zeros([d.bhkv, 0, w]) as tf.Tensor3D) : (tf.concat(parts, 1) as tf.Tensor3D);
      };
      return { dq, dk: cat(dkAcc, d.dk), dv: cat(dvAcc, d.dv) };
    });
  } finally {
    tf.dispose(dkAcc.filter((t): t is tf.Tensor3D => t !== null));
    tf.dispose(dvAcc.filter((t): t is tf.Tensor3D => t !== null));
  }
}
