// Arity rules, one per op kind: how many buffers a node reads and writes given its attributes. The
// verifier checks every node against them, so the interpreter can index `in` / `out` by position.
import type { NodeOf, OpKind, Node } from "./graph.ts";

export interface Arity {
  readonly in: number;
  readonly out: number;
}

type Rule<K extends OpKind> = (n: NodeOf<K>) => Arity | null;
const a = (i: number, o: number): Arity => ({ in: i, out: o });
const g = (gated: boolean) => (gated ? 1 : 0);
const sendsData = (n: { collective: string; sendTo?: unknown }) => n.collective !== "send_recv" || (n.sendTo !== null && n.sendTo !== undefined);
const getsData = (n: { collective: string; recvFrom?: unknown }) => n.collective !== "send_recv" || (n.recvFrom !== null && n.recvFrom !== undefined);

export const ARITY: { readonly [K in OpKind]: Rule<K> } = {
  embed: () => a(2, 1),
  embed_bwd: () => a(2, 1),
  norm: (n) => a(n.kind === "layer" ? 3 : 2, 1),
  norm_bwd: (n) => (n.kind === "layer" ? a(4, 3) : a(3, 2)),
  matmul: () => a(2, 1),
  matmul_bwd: () => a(3, 2),
  add: () => a(2, 1),
  swiglu: () => a(2, 1),
  swiglu_bwd: () => a(3, 2),
  gelu: () => a(1, 1),
  gelu_bwd: () => a(2, 1),
  heads: () => a(1, 1),
  unheads: () => a(1, 1),
  repeat_kv: () => a(1, 1),
  repeat_kv_bwd: () => a(1, 1),
  rope: () => a(1, 1),
  rope_bwd: () => a(1, 1),
  feature: (n) => a(n.map === "square" ? 3 : 1, 1),
  feature_bwd: (n) => (n.map === "square" ? a(4, 3) : a(2, 1)),
  tail: () => a(1, 1),
  tail_add: () => a(2, 1),
  short_conv: (n) => a(n.kernel > 1 ? 3 : 2, 1),
  short_conv_bwd: (n) => (n.kernel > 1 ? a(4, 3) : a(3, 2)),
  gate_proj: () => a(3, 1),
  gate_proj_bwd: () => a(4, 3),
  xent: () => a(2, 1),
  xent_bwd: () => a(2, 1),
  la_state: (n) => a(2 + g(n.gated), 1 + g(n.gated)),
  la_intra: (n) => a(3 + g(n.gated), 1),
  la_prefix: (n) => a(1 + g(n.gated), 1),
  la_inter: (n) => a(2 + (n.causal ? 1 : 0) + g(n.gated), 1),
  la_carry: (n) => a(2 + g(n.gated), 1),
  la_cross: () => a(3, 1),
  la_cross_bwd: () => a(4, 3),
  la_bwd_state: (n) => a(2 + g(n.gated), 1),
  la_bwd_intra: (n) => a(4 + g(n.gated), 3 + g(n.gated)),
  la_suffix: (n) => a(1 + g(n.gated), 1),
  la_bwd_inter: (n) => a(6 + g(n.gated), 3 + g(n.gated)),
  sa_forward: () => a(3, 2),
  sa_backward: () => a(6, 3),
  sa_merge: () => a(4, 2),
  comm_start: (n) => a(sendsData(n) ? n.parts.length : 0, 0),
  // the results of a wait depend on its start: the verifier checks them against it
  comm_wait: () => null,
  linear_attn: (n) => a(3 + g(n.gated), 1),
  linear_attn_bwd: (n) => a(4 + g(n.gated), 3 + g(n.gated)),
  softmax_attn: () => a(3, 1),
  softmax_attn_bwd: () => a(5, 3),
  conv: () => a(2, 1),
  conv_bwd: () => a(3, 2),
  collective: (n) => a(sendsData(n) ? n.parts.length : 0, getsData(n) ? n.parts.length : 0),
};

export function arityOf(n: Node): Arity | null {
  return (ARITY[n.op] as Rule<OpKind>)(n);
}

/** Results a comm_wait must write, from its comm_start. */
export function waitArity(start: NodeOf<"comm_start">): number {
  return getsData(start) ? start.parts.length : 0;
}
