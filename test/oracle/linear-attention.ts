// Float64 oracle for linear attention (plain, gated, fixed decay; causal and bidirectional): the naive
// quadratic definition and its hand-derived gradients. Shares no code with runtime/kernels on purpose.

/** One whole sequence on one device. Arrays are flat row-major [bh, n, d]. */
export interface OracleInput {
  readonly bh: number;
  readonly n: number;
  readonly dk: number;
  readonly dv: number;
  readonly q: Float64Array;
  readonly k: Float64Array;
  readonly v: Float64Array;
  /** log-gates [bh, n, dk] (log alpha <= 0), or null */
  readonly g: Float64Array | null;
  /** per-head decay lambda, or null */
  readonly lambdas: Float64Array | null;
  readonly causal: boolean;
}

export interface OracleGrads {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  dg: Float64Array | null;
}

/** w[d] = prod_{u=j+1..i} alpha_u[d] * lambda^(i-j) for j <= i (1 everywhere when bidirectional). */
function weight(x: OracleInput, h: number, i: number, j: number, d: number): number {
  if (!x.causal) return 1;
  let logw = 0;
  if (x.g) for (let u = j + 1; u <= i; u++) logw += x.g[(h * x.n + u) * x.dk + d]!;
  let w = Math.exp(logw);
  if (x.lambdas) w *= Math.pow(x.lambdas[h]!, i - j);
  return w;
}

function keys(x: OracleInput, i: number): number[] {
  const out: number[] = [];
  const last = x.causal ? i : x.n - 1;
  for (let j = 0; j <= last; j++) out.push(j);
  return out;
}

/** score(i, j) = sum_d q_i[d] k_j[d] w_ij[d] */
function score(x: OracleInput, h: number, i: number, j: number): number {
  let s = 0;
  for (let d = 0; d < x.dk; d++) s += x.q[(h * x.n + i) * x.dk + d]! * x.k[(h * x.n + j) * x.dk + d]! * weight(x, h, i, j, d);
  return s;
}

/** o_i = sum_{j (<= i when causal)} score(i, j) v_j */
export function oracleForward(x: OracleInput): Float64Array {
  const o = new Float64Array(x.bh * x.n * x.dv);
  for (let h = 0; h < x.bh; h++)
    for (let i = 0; i < x.n; i++)
      for (const j of keys(x, i)) {
        const s = score(x, h, i, j);
        for (let e = 0; e < x.dv; e++) o[(h * x.n + i) * x.dv + e]! += s * x.v[(h * x.n + j) * x.dv + e]!;
      }
  return o;
}

/** Gradients of sum(o * dO) with respect to q, k, v and the log-gates. */
export function oracleBackward(x: OracleInput, dO: Float64Array): OracleGrads {
  const { bh, n, dk, dv } = x;
  const gq = new Float64Array(bh * n * dk);
  const gk = new Float64Array(bh * n * dk);
  const gv = new Float64Array(bh * n * dv);
  const gg = x.g ? new Float64Array(bh * n * dk) : null;
  for (let h = 0; h < bh; h++)
    for (let i = 0; i < n; i++)
      for (const j of keys(x, i)) {
        // dov = dO_i . v_j
        let dov = 0;
        for (let e = 0; e < dv; e++) dov += dO[(h * n + i) * dv + e]! * x.v[(h * n + j) * dv + e]!;
        const s = score(x, h, i, j);
        for (let e = 0; e < dv; e++) gv[(h * n + j) * dv + e]! += s * dO[(h * n + i) * dv + e]!;
        for (let d = 0; d < dk; d++) {
          const w = weight(x, h, i, j, d);
          const qi = x.q[(h * n + i) * dk + d]!;
          const kj = x.k[(h * n + j) * dk + d]!;
          gq[(h * n + i) * dk + d]! += w * kj * dov;
          gk[(h * n + j) * dk + d]! += w * qi * dov;
          // d w_ij / d g_u = w_ij for j < u <= i
          if (gg) for (let u = j + 1; u <= i; u++) gg[(h * n + u) * dk + d]! += qi * kj * w * dov;
        }
      }
  return { dq: gq, dk: gk, dv: gv, dg: gg };
}
