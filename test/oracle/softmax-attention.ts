// Float64 oracle for softmax attention: the full score matrix, causal mask by global positions, GQA.
// Shares no code with runtime/kernels. Layout: q [BH*Cq*dk], k [BHkv*Ck*dk], v [BHkv*Ck*dv], row-major.

export interface NaiveSaShape {
  bh: number;
  groups: number;
  cq: number;
  ck: number;
  dk: number;
  dv: number;
  causal: boolean;
  posQ: ArrayLike<number>;
  posK: ArrayLike<number>;
}

function visible(s: NaiveSaShape, i: number, j: number): boolean {
  return !s.causal || s.posK[j]! <= s.posQ[i]!;
}

/** Row-normalised attention weights P [BH, Cq, Ck] (0 where masked; an all-masked row stays 0). */
function probs(s: NaiveSaShape, q: Float64Array, k: Float64Array): Float64Array {
  const p = new Float64Array(s.bh * s.cq * s.ck);
  const scale = 1 / Math.sqrt(s.dk);
  for (let h = 0; h < s.bh; h++) {
    const kh = Math.floor(h / s.groups);
    for (let i = 0; i < s.cq; i++) {
      let mx = -Infinity;
      const row = new Float64Array(s.ck);
      for (let j = 0; j < s.ck; j++) {
        if (!visible(s, i, j)) continue;
        let dot = 0;
        for (let c = 0; c < s.dk; c++) dot += q[(h * s.cq + i) * s.dk + c]! * k[(kh * s.ck + j) * s.dk + c]!;
        row[j] = dot * scale;
        mx = Math.max(mx, row[j]!);
      }
      let sum = 0;
      for (let j = 0; j < s.ck; j++) if (visible(s, i, j)) sum += Math.exp(row[j]! - mx);
      for (let j = 0; j < s.ck; j++)
        p[(h * s.cq + i) * s.ck + j] = visible(s, i, j) ? Math.exp(row[j]! - mx) / sum : 0;
    }
  }
  return p;
}

export function naiveSaForward(s: NaiveSaShape, q: Float64Array, k: Float64Array, v: Float64Array): Float64Array {
  const p = probs(s, q, k);
  const o = new Float64Array(s.bh * s.cq * s.dv);
  for (let h = 0; h < s.bh; h++) {
    const kh = Math.floor(h / s.groups);
    for (let i = 0; i < s.cq; i++)
      for (let j = 0; j < s.ck; j++) {
        const w = p[(h * s.cq + i) * s.ck + j]!;
        for (let c = 0; c < s.dv; c++) o[(h * s.cq + i) * s.dv + c]! += w * v[(kh * s.ck + j) * s.dv + c]!;
      }
  }
  return o;
}

/** Gradients of sum(o * dO): dq [BH,Cq,dk], dk [BHkv,Ck,dk], dv [BHkv,Ck,dv]. */
export function naiveSaBackward(
  s: NaiveSaShape,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  dO: Float64Array,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const p = probs(s, q, k);
  const bhkv = s.bh / s.groups;
  const scale = 1 / Math.sqrt(s.dk);
  const dq = new Float64Array(s.bh * s.cq * s.dk);
  const dk = new Float64Array(bhkv * s.ck * s.dk);
  const dv = new Float64Array(bhkv * s.ck * s.dv);
  for (let h = 0; h < s.bh; h++) {
    const kh = Math.floor(h / s.groups);
    for (let i = 0; i < s.cq; i++) {
      // dP_ij = dO_i . v_j ; dS_ij = P_ij (dP_ij - sum_l P_il dP_il)
      const dp = new Float64Array(s.ck);
      let rowDot = 0;
      for (let j = 0; j < s.ck; j++) {
        let acc = 0;
        for (let c = 0; c < s.dv; c++) acc += dO[(h * s.cq + i) * s.dv + c]! * v[(kh * s.ck + j) * s.dv + c]!;
        dp[j] = acc;
        rowDot += p[(h * s.cq + i) * s.ck + j]! * acc;
      }
      for (let j = 0; j < s.ck; j++) {
        const pij = p[(h * s.cq + i) * s.ck + j]!;
        const ds = pij * (dp[j]! - rowDot) * scale;
        for (let c = 0; c < s.dv; c++) dv[(kh * s.ck + j) * s.dv + c]! += pij * dO[(h * s.cq + i) * s.dv + c]!;
        for (let c = 0; c < s.dk; c++) {
          dq[(h * s.cq + i) * s.dk + c]! += ds * k[(kh * s.ck + j) * s.dk + c]!;
          dk[(kh * s.ck + j) * s.dk + c]! += ds * q[(h * s.cq + i) * s.dk + c]!;
        }
      }
    }
  }
  return { dq, dk, dv };
}
