// FLOP rules, one per op kind, for one concrete SP rank: multiply-adds count 2. Softmax attention counts
// only the (query, key) pairs the causal mask lets through, from the ranks' global positions.
import type { NodeOf, OpKind, Node } from "../ir/graph.ts";
import { rankSegments, type Segment } from "../plan/partition.ts";
import type { Layout } from "../../dsl/spec.ts";
import { elems, type Shape } from "./shapes.ts";

export interface FlopCtx {
  readonly rank: number;
  readonly W: number;
  readonly N: number;
  readonly layout: Layout;
}

type Rule<K extends OpKind> = (n: NodeOf<K>, ins: readonly Shape[], outs: readonly Shape[], c: FlopCtx) => number;

const d = (s: Shape | undefined, i: number) => s?.[i] ?? 0;
const zero = () => 0;
const perOut = (k: number) => (_n: unknown, _i: readonly Shape[], o: readonly Shape[]) => k * elems(o[0] ?? []);

/** Sum over i in [a, a+lq) of clamp(i - c + 1, 0, lk): causal pairs between a query and a key segment. */
export function causalPairs(a: number, lq: number, c: number, lk: number): number {
  let s = 0;
  // i - c + 1 in (0, lk) for i in [c, c+lk-1): an arithmetic run; above it, lk each
  const lo = Math.max(a, c);
  const hi = Math.min(a + lq, c + lk); // exclusive bound of the ramp
  if (hi > lo) {
    const first = lo - c + 1;
    const last = hi - 1 - c + 1;
    s += ((first + last) * (hi - lo)) / 2;
  }
  const flatFrom = Math.max(a, c + lk);
  if (a + lq > flatFrom) s += (a + lq - flatFrom) * lk;
  return s;
}

/** (query, key) pairs attention computes between two lists of segments. */
export function visiblePairs(q: readonly Segment[], k: readonly Segment[], causal: boolean): number {
  let s = 0;
  for (const a of q) for (const b of k) s += causal ? causalPairs(a.start, a.length, b.start, b.length) : a.length * b.length;
  return s;
}

const segCache = new Map<string, Segment[]>();

/** Every rank's segments in rank order (memoised: the same partition is asked for once per node and rank). */
function allSegs(c: FlopCtx): Segment[] {
  const key = `${c.N}/${c.W}/${c.layout}`;
  let out = segCache.get(key);
  if (out === undefined) {
    out = [];
    for (let r = 0; r < c.W; r++) out.push(...rankSegments(c.N, c.W, c.layout, r));
    if (segCache.size > 64) segCache.clear();
    segCache.set(key, out);
  }
  return out;
}

function saPairs(n: NodeOf<"sa_forward"> | NodeOf<"sa_backward">, c: FlopCtx): number {
  const mine = rankSegments(c.N, c.W, c.layout, c.rank);
  const q = n.qSource === "local" ? mine : allSegs(c);
  const k =
    n.kvSource === "local" ? mine : n.kvSource === "gathered" ? allSegs(c) : rankSegments(c.N, c.W, c.layout, (((c.rank - n.hop) % c.W) + c.W) % c.W);
  return visiblePairs(q, k, n.causal);
}

/** Ring cross term: 2 B*H (lq + lk) dk dv per (local segment, block segment) pair the mask lets through. */
function laCross(n: NodeOf<"la_cross"> | NodeOf<"la_cross_bwd">, c: FlopCtx): number {
  const mine = rankSegments(c.N, c.W, c.layout, c.rank);
  const theirs = rankSegments(c.N, c.W, c.layout, (((c.rank - n.hop) % c.W) + c.W) % c.W);
  let s = 0;
  for (const q of mine) {
    for (const k of theirs) if (q.chunk !== k.chunk && (!n.causal || k.start + k.length <= q.start)) s += 2 * n.batch * n.heads * (q.length + k.length) * n.dk * n.dv;
  }
  return s;
}

function laIntra(n: NodeOf<"la_intra">, q: Shape): number {
  const BH = d(q, 0);
  const C = d(q, 1);
  const b = Math.min(n.block, C);
  const within = 2 * BH * C * b * (n.dk + n.dv) * (n.causal ? 0.5 : 1);
  return within + (C > b ? 4 * BH * C * n.dk * n.dv : 0);
}

export const FLOPS: { readonly [K in OpKind]: Rule<K> } = {
  embed: zero,
  embed_bwd: perOut(0),
  norm: perOut(5),
  norm_bwd: (_n, i) => 10 * elems(i[0] ?? []),
  matmul: (n, i, o) => 2 * d(i[0], 0) * d(i[0], 1) * d(o[0], 1),
  matmul_bwd: (n, i) => 4 * d(i[1], 0) * d(i[1], 1) * d(i[0], 1),
  add: perOut(1),
  swiglu: perOut(5),
  swiglu_bwd: (_n, i) => 10 * elems(i[0] ?? []),
  gelu: perOut(8),
  gelu_bwd: (_n, i) => 16 * elems(i[0] ?? []),
  heads: zero,
  unheads: zero,
  repeat_kv: zero,
  repeat_kv_bwd: (_n, i) => elems(i[0] ?? []),
  rope: perOut(3),
  rope_bwd: perOut(3),
  feature: perOut(2),
  feature_bwd: (_n, i) => 4 * elems(i[0] ?? []),
  tail: zero,
  tail_add: (n, i) => elems(i[1] ?? []),
  short_conv: (n, _i, o) => 2 * n.kernel * elems(o[0] ?? []),
  short_conv_bwd: (n, i) => 4 * n.kernel * elems(i[0] ?? []),
  gate_proj: (n, i) => {
    const M = d(i[0], 0);
    const r = d(i[1], 1);
    return 2 * M * d(i[0], 1) * r + 2 * M * r * n.heads * n.dim + 4 * M * n.heads * n.dim;
  },
  gate_proj_bwd: (n, i) => {
    const M = d(i[1], 0);
    const r = d(i[2], 1);
    return 2 * (2 * M * d(i[1], 1) * r + 2 * M * r * n.heads * n.dim) + 4 * M * n.heads * n.dim;
  },
  xent: (n, i) => 5 * d(i[0], 0) * n.vocab,
  xent_bwd: (n, i) => 3 * d(i[0], 0) * n.vocab,
  la_state: (n, i) => 2 * d(i[0], 0) * d(i[0], 1) * n.dk * n.dv,
  la_intra: (n, i) => laIntra(n, i[0] ?? []),
  la_prefix: (_n, i) => 2 * elems(i[0] ?? []),
  la_inter: (n, i) => 2 * d(i[0], 0) * d(i[0], 1) * n.dk * n.dv + d(i[0], 0) * d(i[0], 1) * n.dv,
  la_carry: (_n, i) => 2 * elems(i[1] ?? []),
  la_cross: (n, _i, _o, c) => laCross(n, c),
  la_cross_bwd: (n, _i, _o, c) => 2 * laCross(n, c),
  la_bwd_state: (n, i) => 2 * d(i[0], 0) * d(i[0], 1) * n.dk * n.dv,
  la_bwd_intra: (n, i) => 2 * laIntra({ ...n, op: "la_intra" }, i[0] ?? []),
  la_suffix: (_n, i) => 2 * elems(i[0] ?? []),
  la_bwd_inter: (n, i) => 6 * d(i[0], 0) * d(i[0], 1) * n.dk * n.dv,
  sa_forward: (n, _i, _o, c) => 2 * n.batch * n.heads * saPairs(n, c) * (n.dk + n.dv),
  sa_backward: (n, _i, _o, c) => 2 * n.batch * n.heads * saPairs(n, c) * (2 * n.dk + 3 * n.dv),
  sa_merge: perOut(6),
  comm_start: zero,
  comm_wait: zero,
  // logical ops are lowered before estimates run
  linear_attn: zero,
  linear_attn_bwd: zero,
  softmax_attn: zero,
  softmax_attn_bwd: zero,
  conv: zero,
  conv_bwd: zero,
  collective: zero,
};

export function flopsOf(n: Node, ins: readonly Shape[], outs: readonly Shape[], c: FlopCtx): number {
  return (FLOPS[n.op] as Rule<OpKind>)(n, ins, outs, c);
}
