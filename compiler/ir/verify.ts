// The IR verifier, run after every pass: unique ids, every buffer written once (SSA) and defined before
// it is read, every comm_start waited exactly once before anyone reads its results, and no logical op
// left after the pass that lowers it. Returns messages; compile() turns them into LASP9xxx errors.
import { allNodes, TOKENS, TARGETS, type Graph } from "./graph.ts";

export interface VerifyOptions {
  /** logical ops must be gone (after insert-comm / schedule-overlap) */
  readonly lowered?: { attention: boolean; collectives: boolean };
}

export function verify(g: Graph, opts: VerifyOptions = {}): string[] {
  const errs: string[] = [];
  const ids = new Set<string>();
  const defined = new Set<string>([TOKENS, TARGETS, ...g.params.map((p) => p.name)]);
  const pending = new Map<string, string>(); // handle -> start id
  const waited = new Set<string>();
  for (const n of allNodes(g)) {
    if (ids.has(n.id)) errs.push(`duplicate id ${n.id}`);
    ids.add(n.id);
    for (const b of n.in) {
      if (!defined.has(b)) errs.push(`${n.id} (${n.op}) reads '${b}' before it is defined`);
    }
    if (n.op === "comm_start") {
      if (pending.has(n.handle) || waited.has(n.handle)) errs.push(`${n.id}: handle '${n.handle}' started twice`);
      pending.set(n.handle, n.id);
    }
    if (n.op === "comm_wait") {
      if (!pending.has(n.handle)) errs.push(`${n.id}: wait on '${n.handle}' that is not pending`);
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
  for (const [h, id] of pending) errs.push(`${id}: handle '${h}' is never waited`);
  for (const p of g.params) {
    if (g.gradSync.length > 0 && !defined.has(p.grad)) errs.push(`gradient buffer '${p.grad}' of ${p.name} is never written`);
  }
  return errs;
}
