// The IR verifier, run after every pass: unique ids, arities (ir/arity.ts), every buffer written once (SSA)
// and defined before it is read, every comm_start waited exactly once before anyone reads its results,
// and no logical op left after the pass that lowers it. Returns messages; compile() throws on any.
import { allNodes, TOKENS, TARGETS, type Graph, type NodeOf } from "./graph.ts";
import { arityOf, waitArity } from "./arity.ts";

export interface VerifyOptions {
  /** buffers defined before the program besides tokens, targets and params (e.g. `lasp op` inputs) */
  readonly inputs?: readonly string[];
  /** logical ops must be gone (after insert-comm / schedule-overlap) */
  readonly lowered?: { attention: boolean; collectives: boolean };
}

export function verify(g: Graph, opts: VerifyOptions = {}): string[] {
  const errs: string[] = [];
  const ids = new Set<string>();
  const defined = new Set<string>([TOKENS, TARGETS, ...g.params.map((p) => p.name), ...(opts.inputs ?? [])]);
  const pending = new Map<string, NodeOf<"comm_start">>();
  const waited = new Set<string>();
  for (const n of allNodes(g)) {
    if (ids.has(n.id)) errs.push(`duplicate id ${n.id}`);
    ids.add(n.id);
    for (const b of n.in) {
      if (!defined.has(b)) errs.push(`${n.id} (${n.op}) reads '${b}' before it is defined`);
    }
    const ar = arityOf(n);
    if (ar !== null && (ar.in !== n.in.length || ar.out !== n.out.length)) {
      errs.push(`${n.id} (${n.op}) has ${n.in.length} inputs / ${n.out.length} outputs, expected ${ar.in} / ${ar.out}`);
    }
    if (n.op === "comm_start") {
      if (pending.has(n.handle) || waited.has(n.handle)) errs.push(`${n.id}: handle '${n.handle}' started twice`);
      pending.set(n.handle, n);
    }
    if (n.op === "comm_wait") {
      const start = pending.get(n.handle);
      if (start === undefined) errs.push(`${n.id}: wait on '${n.handle}' that is not pending`);
      else if (waitArity(start) !== n.out.length) errs.push(`${n.id}: wait writes ${n.out.length} results, its start moves ${waitArity(start)}`);
      pending.delete(n.handle);
      waited.add(n.handle);
    }
    for (const b of n.out) {
      if (defined.has(b)) errs.push(`${n.id} (${n.op}) writes '${b}' a second time`);
      defined.add(b);
    }
    if (opts.lowered?.attention && ["linear_attn", "linear_attn_bwd", "softmax_attn", "softmax_attn_bwd", "conv", "conv_bwd"].includes(n.op)) {
      errs.push(`${n.id}: logical op ${n.op} left after lowering`);
    }
    if (opts.lowered?.collectives && n.op === "collective") errs.push(`${n.id}: collective not split into start/wait`);
  }
  for (const [h, s] of pending) errs.push(`${s.id}: handle '${h}' is never waited`);
  for (const p of g.params) {
    if (g.gradSync.length > 0 && !defined.has(p.grad)) errs.push(`gradient buffer '${p.grad}' of ${p.name} is never written`);
  }
  return errs;
}
