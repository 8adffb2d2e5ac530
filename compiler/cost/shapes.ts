// Shape rules, one per op kind: the output shapes of a node on one concrete SP rank, from its input
// shapes and attributes. Used by the estimate pass (FLOPs, activation memory) and by tests.
import { InternalError } from "../../dsl/diagnostic.ts";
import type { NodeOf, OpKind, Node } from "../ir/graph.ts";
import { groupSize, partShape, sendRecvOrigin, type CommSizing } from "./bytes.ts";
import type { Mesh } from "../plan/schema.ts";

export type Shape = readonly number[];

export interface ShapeCtx {
  readonly rank: number;
  readonly rankTokens: readonly number[];
  readonly segments: number;
  readonly mesh: Mesh;
  /** the comm_start of a handle, with its input shapes (comm_wait's result shapes come from it) */
  readonly starts: ReadonlyMap<string, { sizing: CommSizing; inShapes: readonly Shape[] }>;
}

type Rule<K extends OpKind> = (n: NodeOf<K>, s: readonly Shape[], c: ShapeCtx) => Shape[];

const dim = (s: Shape | undefined, i: number): number => {
  const v = s?.[i];
  if (v === undefined) throw new InternalError(`shape ${JSON.stringify(s)} has no axis ${i}`);
  return v;
};
const same = (i: number) => (_n: unknown, s: readonly Shape[]) => [s[i]!];
const rest = (from: number) => (_n: unknown, s: readonly Shape[]) => s.slice(from);
const seqTokens = (c: ShapeCtx) => c.rankTokens.reduce((a, b) => a + b, 0);

/** Shapes of a collective's results on rank c.rank. */
export function collectiveShapes(z: CommSizing, ins: readonly Shape[], nOut: number, c: ShapeCtx): Shape[] {
  const W = groupSize(z.group, c.mesh);
  const C = (q: number) => (z.group === "sp" ? (c.rankTokens[q] ?? 0) : 0);
  const withAxis = (s: Shape, axis: number, v: number) => s.map((d, i) => (i === axis ? v : d));
  switch (z.collective) {
    case "all_gather":
      return z.parts.map((p) => {
        const total = Array.from({ length: W }, (_, q) => partShape(p, C(q))[p.axis] ?? 0).reduce((a, b) => a + b, 0);
        return withAxis(partShape(p, C(c.rank)), p.axis, total);
      });
    case "reduce_scatter":
      return z.parts.map((p) => partShape(p, C(c.rank)));
    case "all_reduce":
      return [...ins];
    case "all_to_all": {
      const a = z.a2a!;
      return a.direction === "seq_to_heads"
        ? [[(a.batch * a.heads) / W, seqTokens(c), a.dim]]
        : [[a.batch * a.heads, C(c.rank), a.dim]];
    }
    case "send_recv": {
      const origin = sendRecvOrigin(z, W, c.rank);
      return Array.from({ length: nOut }, (_, j) => (origin === null ? [0] : partShape(z.parts[j]!, C(origin))));
    }
  }
}

export const SHAPES: { readonly [K in OpKind]: Rule<K> } = {
  embed: (n, s) => [[dim(s[0], 0), n.dim]],
  embed_bwd: (n) => [[n.vocab, n.dim]],
  norm: same(0),
  norm_bwd: rest(1),
  matmul: (n, s) => [[dim(s[0], 0), n.transB ? dim(s[1], 0) : dim(s[1], 1)]],
  matmul_bwd: rest(1),
  add: same(0),
  swiglu: same(0),
  swiglu_bwd: rest(1),
  gelu: same(0),
  gelu_bwd: (_n, s) => [s[1]!],
  heads: (n, s) => [[n.batch * n.heads, dim(s[0], 0) / n.batch, n.dim]],
  unheads: (n, s) => [[n.batch * dim(s[0], 1), n.heads * n.dim]],
  repeat_kv: (n, s) => [[dim(s[0], 0) * n.groups, dim(s[0], 1), dim(s[0], 2)]],
  repeat_kv_bwd: (n, s) => [[dim(s[0], 0) / n.groups, dim(s[0], 1), dim(s[0], 2)]],
  rope: same(0),
  rope_bwd: same(0),
  feature: (n, s) => [[dim(s[0], 0), n.heads * n.outDim]],
  feature_bwd: rest(1),
  tail: (n, s) => [[n.batch * n.tokens, dim(s[0], 1)]],
  tail_add: same(0),
  short_conv: same(0),
  short_conv_bwd: (n, s) => (s.length === 4 ? [s[1]!, [n.batch * (n.kernel - 1), n.channels], s[3]!] : [s[1]!, s[2]!]),
  gate_proj: (n, s) => [[n.batch * n.heads, dim(s[0], 0) / n.batch, n.dim]],
  gate_proj_bwd: rest(1),
  xent: () => [[1]],
  xent_bwd: same(0),
  la_state: (n, s, c) => {
    const BH = dim(s[0], 0);
    return n.gated ? [[c.segments, BH, n.dk, n.dv], [c.segments, BH, n.dk]] : [[c.segments, BH, n.dk, n.dv]];
  },
  la_intra: (n, s) => [[dim(s[0], 0), dim(s[0], 1), n.dv]],
  la_prefix: (n, _s, c) => [[c.segments, n.batch * n.heads, n.dk, n.dv]],
  la_inter: (n, s) => [[dim(s[0], 0), dim(s[0], 1), n.dv]],
  la_carry: (_n, s) => [s[1]!],
  la_cross: (n, s) => [[dim(s[0], 0), dim(s[0], 1), n.dv]],
  la_cross_bwd: (_n, s) => [s[0]!, s[1]!, s[2]!],
  la_bwd_state: (n, _s, c) => [[c.segments, n.batch * n.heads, n.dk, n.dv]],
  la_bwd_intra: (n, s) => (n.gated ? [s[0]!, s[1]!, s[2]!, s[4]!] : [s[0]!, s[1]!, s[2]!]),
  la_suffix: (n, _s, c) => [[c.segments, n.batch * n.heads, n.dk, n.dv]],
  la_bwd_inter: (n, s) => (n.gated ? [s[0]!, s[1]!, s[2]!, s[6]!] : [s[0]!, s[1]!, s[2]!]),
  sa_forward: (n, s) => [[dim(s[0], 0), dim(s[0], 1), n.dv], [dim(s[0], 0), dim(s[0], 1)]],
  sa_backward: (_n, s) => [s[0]!, s[1]!, s[2]!],
  sa_merge: (_n, s) => [s[0]!, s[1]!],
  comm_start: () => [],
  comm_wait: (n, _s, c) => {
    const st = c.starts.get(n.handle);
    if (st === undefined) throw new InternalError(`comm_wait ${n.id}: unknown handle ${n.handle}`);
    return collectiveShapes(st.sizing, st.inShapes, n.out.length, c);
  },
  linear_attn: (n, s) => [[dim(s[0], 0), dim(s[0], 1), n.dv]],
  linear_attn_bwd: (n, s) => s.slice(0, n.out.length),
  softmax_attn: (n, s) => [[dim(s[0], 0), dim(s[0], 1), n.dv]],
  softmax_attn_bwd: (_n, s) => s.slice(0, 3),
  conv: same(0),
  conv_bwd: rest(1),
  collective: (n, s, c) => collectiveShapes(n, s, n.out.length, c),
};

/** The output shapes of one node. */
export function shapesOf(n: Node, ins: readonly Shape[], c: ShapeCtx): Shape[] {
  return (SHAPES[n.op] as Rule<OpKind>)(n, ins, c);
}

export const elems = (s: Shape): number => s.reduce((a, b) => a * b, 1);
