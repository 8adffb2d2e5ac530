// Block masks for softmax attention, built from global token positions (JS side, shared by all heads).
// API: blockMask(posQ, q0, bq, posK, k0, bk, causal, groups) -> BlockMask; SA_EMPTY_LSE.

/** lse of a query row that saw no key (finite so that saMerge and exp() never produce NaN). */
export const SA_EMPTY_LSE = -1e30;

/**
 * What a (query block, key block) tile needs. "skip": no query sees any key (causal work saving);
 * "full": every query sees every key (no mask); "mask": 0/1 mask and additive bias, both
 * [groups*bq, bk], row r = g*bq + i (the GQA groups of one kv head are stacked as extra query rows).
 */
export type BlockMask =
  | { readonly kind: "skip" }
  | { readonly kind: "full" }
  | { readonly kind: "mask"; readonly keep: Float32Array; readonly bias: Float32Array };

/** Key j is visible to query i iff posK[j] <= posQ[i] (causal) or always (bidirectional). */
export function blockMask(
  posQ: Int32Array,
  q0: number,
  bq: number,
  posK: Int32Array,
  k0: number,
  bk: number,
  causal: boolean,
  groups: number,
): BlockMask {
  if (!causal) return { kind: "full" };
  let qMin = Infinity;
  let qMax = -Infinity;
  for (let i = q0; i < q0 + bq; i++) {
    const p = posQ[i]!;
    if (p < qMin) qMin = p;
    if (p > qMax) qMax = p;
  }
  let kMin = Infinity;
  let kMax = -Infinity;
  for (let j = k0; j < k0 + bk; j++) {
    const p = posK[j]!;
    if (p < kMin) kMin = p;
    if (p > kMax) kMax = p;
  }
  if (kMin > qMax) return { kind: "skip" };
  if (kMax <= qMin) return { kind: "full" };
  const keep = new Float32Array(groups * bq * bk);
  const bias = new Float32Array(groups * bq * bk);
  for (let i = 0; i < bq; i++) {
    const pq = posQ[q0 + i]!;
    for (let j = 0; j < bk; j++) {
      const visible = posK[k0 + j]! <= pq;
      for (let g = 0; g < groups; g++) {
        const at = (g * bq + i) * bk + j;
        keep[at] = visible ? 1 : 0;
        bias[at] = visible ? 0 : SA_EMPTY_LSE;
      }
    }
  }
  return { kind: "mask", keep, bias };
}
