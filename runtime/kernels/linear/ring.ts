// Ring attention for linear layers: the contribution of one block of keys/values that lies entirely
// before a query segment in the global sequence (or anywhere, bidirectional), in low-rank form:
// o_i += sum_j lambda^(posQ_i - posK_j) (q_i . k_j) v_j = (q_i lambda^(posQ_i - p0)) (sum_j lambda^(p0 - posK_j) k_j^T v_j)
// with p0 = min posQ, so both factors are <= 1. Gates are not supported here (they would need the gates
// of every token between the two blocks, which live on other ranks).
import * as tf from "@tensorflow/tfjs-core";
import { matMul } from "../simd/matmul.ts";
import type { Tensor } from "./types.ts";

/** Per-token factors lambda^(sign * (pos - p0)) as [BH, n, 1]. */
function powers(pos: Int32Array, p0: number, sign: 1 | -1, lambdas: Float32Array): Tensor {
  const bh = lambdas.length;
  const out = new Float32Array(bh * pos.length);
  for (let h = 0; h < bh; h++) {
    const ll = Math.log(lambdas[h]!);
    for (let i = 0; i < pos.length; i++) out[h * pos.length + i] = Math.exp(ll * sign * (pos[i]! - p0));
  }
  return tf.tensor3d(out, [bh, pos.length, 1]);
}

interface Factors {
  fq: Tensor | null;
  fk: Tensor | null;
}

function factors(
  q: Tensor,
  posQ: Int32Array,
  k: Tensor,
  posK: Int32Array,
  lambdas: Float32Array | null,
  causal: boolean,
): Factors {
  if (q.shape[1] !== posQ.length || k.shape[1] !== posK.length)
    throw new Error("laCross: positions do not match the token counts");
  if (!causal) {
    if (lambdas) throw new Error("laCross: bidirectional attention takes no decay");
    return { fq: null, fk: null };
  }
  if (posQ.length === 0 || posK.length === 0) return { fq: null, fk: null };
  const p0 = Math.min(...posQ);
  const maxK = Math.max(...posK);
  if (maxK >= p0) throw new Error(`laCross: key position ${maxK} is not before query position ${p0}`);
  if (!lambdas) return { fq: null, fk: null };
  if (lambdas.length !== q.shape[0]) throw new Error(`laCross: ${lambdas.length} lambdas for ${q.shape[0]} heads`);
  return { fq: powers(posQ, p0, 1, lambdas), fk: powers(posK, p0, -1, lambdas) };
}

const scale = (x: Tensor, f: Tensor | null): Tensor => (f ? tf.mul(x, f) : x);

/**
 * Contribution [BH, Cq, dv] of an earlier key block (every posK < every posQ) to the queries q [BH, Cq, dk].
 * causal=false: no ordering, no decay (bidirectional ring).
 */
export function laCross(
  q: Tensor,
  posQ: Int32Array,
  k: Tensor,
  v: Tensor,
  posK: Int32Array,
  lambdas: Float32Array | null,
  causal = true,
): Tensor {
  return tf.tidy(() => {
    const f = factors(q, posQ, k, posK, lambdas, causal);
    return matMul(scale(q, f.fq), matMul(scale(k, f.fk), v, true, false));
  });
}

/** Gradients of laCross given dO [BH, Cq, dv]: dq for the queries, dk, dv for the key block's owner. */
export function laCrossBwd(
  q: Tensor,
  posQ: Int32Array,
  k: Tensor,
  v: Tensor,
  posK: Int32Array,
  lambdas: Float32Array | null,
  dO: Tensor,
  causal = true,
): { dq: Tensor; dk: Tensor; dv: Tensor } {
  return tf.tidy(() => {
    const f = factors(q, posQ, k, posK, lambdas, causal);
    const kf = scale(k, f.fk);
    const s = matMul(kf, v, true, false);
    const d = matMul(scale(q, f.fq), dO, true, false);
    return {
      dq: scale(matMul(dO, s, false, true), f.fq),
      dk: scale(matMul(v, d, false, true), f.fk),
      dv: matMul(kf, d),
    };
  });
}
