// Per-op backward rules, one entry per op kind (null = the op is never differentiated: it is itself a
// backward or lowered op). A rule gets the forward node and the gradients of its outputs, emits backward
// drafts, and returns the gradient buffer of each input (undefined = no gradient flows there).
import { InternalError } from "../../dsl/diagnostic.ts";
import type { Draft, NodeOf, OpKind, Node } from "./graph.ts";

export interface BwdCtx {
  emit(d: Draft): void;
  /** a buffer name not used yet, derived from `base` */
  fresh(base: string): string;
}

type Grads = (string | undefined)[];
export type BwdRule<K extends OpKind> = ((n: NodeOf<K>, dOut: readonly (string | undefined)[], c: BwdCtx) => Grads) | null;

const at = (n: Node) => ({ layer: n.layer, phase: "backward" as const, loc: n.loc });
const d = (c: BwdCtx, buf: string) => c.fresh(`d.${buf}`);

function need(dy: string | undefined, n: Node): string {
  if (dy === undefined) throw new InternalError(`backward of ${n.id} (${n.op}) without an output gradient`);
  return dy;
}

export const BACKWARD: { readonly [K in OpKind]: BwdRule<K> } = {
  embed: (n, [dy], c) => {
    const dw = d(c, n.in[1]!);
    c.emit({ op: "embed_bwd", vocab: n.vocab, dim: n.dim, in: [need(dy, n), n.in[0]!], out: [dw], ...at(n) });
    return [undefined, dw];
  },
  norm: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    c.emit({ op: "norm_bwd", kind: n.kind, eps: n.eps, dim: n.dim, in: [need(dy, n), ...n.in], out: outs, ...at(n) });
    return outs;
  },
  matmul: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    c.emit({ op: "matmul_bwd", transB: n.transB, in: [need(dy, n), ...n.in], out: outs, ...at(n) });
    return outs;
  },
  add: (n, [dy]) => [need(dy, n), need(dy, n)],
  swiglu: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    c.emit({ op: "swiglu_bwd", in: [need(dy, n), ...n.in], out: outs, ...at(n) });
    return outs;
  },
  gelu: (n, [dy], c) => {
    const dx = d(c, n.in[0]!);
    c.emit({ op: "gelu_bwd", in: [need(dy, n), n.in[0]!], out: [dx], ...at(n) });
    return [dx];
  },
  heads: (n, [dy], c) => {
    const dx = d(c, n.in[0]!);
    c.emit({ op: "unheads", batch: n.batch, heads: n.heads, dim: n.dim, in: [need(dy, n)], out: [dx], ...at(n) });
    return [dx];
  },
  unheads: (n, [dy], c) => {
    const dx = d(c, n.in[0]!);
    c.emit({ op: "heads", batch: n.batch, heads: n.heads, dim: n.dim, in: [need(dy, n)], out: [dx], ...at(n) });
    return [dx];
  },
  repeat_kv: (n, [dy], c) => {
    const dx = d(c, n.in[0]!);
    const { batch, kvHeads, groups } = n;
    c.emit({ op: "repeat_kv_bwd", batch, kvHeads, groups, in: [need(dy, n)], out: [dx], ...at(n) });
    return [dx];
  },
  rope: (n, [dy], c) => {
    const dx = d(c, n.in[0]!);
    c.emit({ op: "rope_bwd", theta: n.theta, dim: n.dim, in: [need(dy, n)], out: [dx], ...at(n) });
    return [dx];
  },
  feature: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    const { map, heads, dim, outDim } = n;
    c.emit({ op: "feature_bwd", map, heads, dim, outDim, in: [need(dy, n), ...n.in], out: outs, ...at(n) });
    return outs;
  },
  conv: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    const { batch, kernel, channels } = n;
    c.emit({ op: "conv_bwd", batch, kernel, channels, in: [need(dy, n), ...n.in], out: outs, ...at(n) });
    return outs;
  },
  gate_proj: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    const { batch, heads, dim, tau } = n;
    c.emit({ op: "gate_proj_bwd", batch, heads, dim, tau, in: [need(dy, n), ...n.in], out: outs, ...at(n) });
    return outs;
  },
  linear_attn: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    const { id: _id, op: _op, in: _in, out: _out, free: _free, ...attrs } = n;
    c.emit({ ...attrs, op: "linear_attn_bwd", in: [...n.in, need(dy, n)], out: outs, ...at(n) });
    return outs;
  },
  softmax_attn: (n, [dy], c) => {
    const outs = n.in.map((b) => d(c, b));
    const { id: _id, op: _op, in: _in, out: _out, free: _free, ...attrs } = n;
    c.emit({ ...attrs, op: "softmax_attn_bwd", in: [...n.in, n.out[0]!, need(dy, n)], out: outs, ...at(n) });
    return outs;
  },
  xent: (n, _dy, c) => {
    const dl = d(c, n.in[0]!);
    c.emit({ op: "xent_bwd", vocab: n.vocab, scale: n.scale, in: [...n.in], out: [dl], ...at(n) });
    return [dl, undefined];
  },
  // backward, lowered and communication ops are never differentiated
  embed_bwd: null,
  norm_bwd: null,
  matmul_bwd: null,
  swiglu_bwd: null,
  gelu_bwd: null,
  repeat_kv_bwd: null,
  rope_bwd: null,
  feature_bwd: null,
  tail: null,
  tail_add: null,
  short_conv: null,
  short_conv_bwd: null,
  gate_proj_bwd: null,
  xent_bwd: null,
  la_state: null,
  la_intra: null,
  la_prefix: null,
  la_inter: null,
  la_carry: null,
  la_cross: null,
  la_cross_bwd: null,
  la_bwd_state: null,
  la_bwd_intra: null,
  la_suffix: null,
  la_bwd_inter: null,
  sa_forward: null,
  sa_backward: null,
  sa_merge: null,
  comm_start: null,
  comm_wait: null,
  linear_attn_bwd: null,
  softmax_attn_bwd: null,
  conv_bwd: null,
  collective: null,
};
