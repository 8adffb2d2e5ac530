// Shared options, shape checks and tiling helpers of the softmax-attention kernels.
// API: SaOptions, SaPartial, SaDims, saDims(q, k, v, posQ, posK, opts), qRows(t, dims, q0, bq).
import * as tf from "@tensorflow/tfjs-core";

export interface SaOptions {
  /** key j visible to query i iff posK[j] <= posQ[i]; false = every key visible */
  readonly causal: boolean;
  /** tile edge: blocks of `block` queries x `block` keys (the tail block may be shorter) */
  readonly block: number;
  /** H / Hkv: q head i uses kv head floor(i / groups) (= b*Hkv + floor(h/groups) for i = b*H + h) */
  readonly groups: number;
  /** score scale; default 1/sqrt(dk) */
  readonly scale?: number;
}

/** A softmax-attention result over some set of keys: o [BH, Cq, dv], lse [BH, Cq] (natural log). */
export interface SaPartial {
  readonly o: tf.Tensor3D;
  readonly lse: tf.Tensor2D;
}

export interface SaDims {
  readonly bh: number;
  readonly bhkv: number;
  readonly groups: number;
  readonly cq: number;
  readonly ck: number;
  readonly dk: number;
  readonly dv: number;
  readonly block: number;
  readonly scale: number;
}

export function saDims(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  posQ: Int32Array,
  posK: Int32Array,
  opts: SaOptions,
): SaDims {
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) throw new Error("softmax attention: q, k, v must be rank 3");
  const [bh, cq, dk] = q.shape as [number, number, number];
  const [bhkv, ck, dkk] = k.shape as [number, number, number];
  const [bhv, ckv, dv] = v.shape as [number, number, number];
  const groups = opts.groups;
  if (!Number.isInteger(groups) || groups < 1 || bh !== bhkv * groups)
    throw new Error(`softmax attention: q has ${bh} heads, k has ${bhkv}, groups ${groups}`);
  if (dkk !== dk || bhv !== bhkv || ckv !== ck)
    throw new Error(`softmax attention: shapes q ${q.shape} k ${k.shape} v ${v.shape} disagree`);
  if (posQ.length !== cq || posK.length !== ck)
    throw new Error(`softmax attention: ${posQ.length} query / ${posK.length} key positions for ${cq} / ${ck} tokens`);
  if (!Number.isInteger(opts.block) || opts.block < 1) throw new Error(`softmax attention: block ${opts.block}`);
  const scale = opts.scale ?? 1 / Math.sqrt(dk);
  return { bh, bhkv, groups, cq, ck, dk, dv, block: opts.block, scale };
}

/**
 * Rows q0 .. q0+bq of a [bhkv, groups, C, w] tensor as [bhkv, groups*bq, w]: the GQA groups of one
 * kv head become extra query rows, so a tile is one batched matmul against the kv head.
 */
export function qRows(t: tf.Tensor4D, q0: number, bq: number): tf.Tensor3D {
  const [bhkv, groups, , w] = t.shape;
  return tf.reshape(tf.slice(t, [0, 0, q0, 0], [bhkv, groups, bq, w]), [bhkv, groups * bq, w]);
}
