// The one-layer plan of `lasp op`: a logical attention node (and its backward when asked) over input
// buffers q, k, v (, do), run through the model pipeline's own passes (check-config, partition,
// insert-comm, grad-sync, schedule-overlap, liveness) with the IR verifier after each, then lowered.
import { InternalError } from "../../dsl/diagnostic.ts";
import { initialGraph, withIds, type Draft, type Graph } from "../ir/graph.ts";
import { verify } from "../ir/verify.ts";
import { PIPELINE } from "../passes/pipeline.ts";
import { lowerToPlan } from "../plan/lower.ts";
import type { Plan } from "../plan/schema.ts";
import { checkOpConfig, opSpec, OP_LOC, type OpConfig, type OpConfigError } from "./config.ts";
import { opEstimates, type InputShapes } from "./estimate.ts";

/** Buffer names of the op's inputs and outputs in the plan. */
export const OP_IO = { q: "q", k: "k", v: "v", do: "do", o: "o", dq: "dq", dk: "dk", dv: "dv" } as const;

/** Model-only passes: the op's graph comes built (no layers to expand, backward written directly), and
 * its estimates are seeded with the op's inputs (compiler/op/estimate.ts) instead of tokens. */
const SKIPPED = new Set(["expand-layers", "build-backward", "estimate"]);
export const OP_PASSES = PIPELINE.filter((p) => !SKIPPED.has(p.name));

export interface OpPlan {
  readonly plan: Plan;
  /** the input buffers the rank fills before the forward, with their per-rank shapes */
  readonly inputs: readonly string[];
  /** the buffers the op's results are read from (o; dq, dk, dv with the backward) */
  readonly outputs: readonly string[];
}

function inputShapes(c: OpConfig): InputShapes {
  return (C) =>
    new Map([
      [OP_IO.q, [c.H, C, c.dk]],
      [OP_IO.k, [c.H, C, c.dk]],
      [OP_IO.v, [c.H, C, c.dv]],
      ...(c.backward ? [[OP_IO.do, [c.H, C, c.dv]] as [string, number[]]] : []),
    ]);
}

function logicalNodes(c: OpConfig): { forward: Draft[]; backward: Draft[] } {
  const site = { layer: 0, loc: OP_LOC };
  const attrs = { batch: 1, heads: c.H, kvHeads: c.H, groups: 1, dk: c.dk, dv: c.dv, causal: c.causal, block: c.block };
  const { q, k, v, o, dq, dk, dv } = OP_IO;
  const grads = [dq, dk, dv];
  if (c.kind === "linear-attention") {
    const la = { ...attrs, method: c.method as "lasp2", lambdas: c.lambdas === null ? null : [...c.lambdas], gated: false };
    return {
      forward: [{ op: "linear_attn", ...la, in: [q, k, v], out: [o], phase: "forward", ...site }],
      backward: c.backward ? [{ op: "linear_attn_bwd", ...la, in: [q, k, v, OP_IO.do], out: grads, phase: "backward", ...site }] : [],
    };
  }
  const sa = { ...attrs, method: c.method as "lasp2h", scale: 1 / Math.sqrt(c.dk) };
  return {
    forward: [{ op: "softmax_attn", ...sa, in: [q, k, v], out: [o], phase: "forward", ...site }],
    backward: c.backward ? [{ op: "softmax_attn_bwd", ...sa, in: [q, k, v, o, OP_IO.do], out: grads, phase: "backward", ...site }] : [],
  };
}

/** The op's plan, or every configuration error (each naming a flag or tensor). */
export function buildOpPlan(c: OpConfig): { plan: OpPlan | null; errors: OpConfigError[] } {
  const errors = checkOpConfig(c);
  if (errors.length > 0) return { plan: null, errors };
  const { forward, backward } = logicalNodes(c);
  let g: Graph = { ...initialGraph(opSpec(c)), forward: withIds(forward, "forward"), backward: withIds(backward, "backward") };
  const shapes = inputShapes(c);
  const inputs = [...shapes(1).keys()];
  const names = OP_PASSES.map((p) => p.name);
  for (const [i, pass] of OP_PASSES.entries()) {
    g = pass.run(g, {});
    const lowered = { attention: i >= names.indexOf("insert-comm"), collectives: i >= names.indexOf("schedule-overlap") };
    const errs = verify(g, { inputs, lowered });
    if (errs.length > 0) throw new InternalError(`op IR invalid after pass ${pass.name}:\n  ${errs.slice(0, 10).join("\n  ")}`);
    const bad = g.diagnostics.filter((d) => d.severity === "error");
    if (bad.length > 0) return { plan: null, errors: bad.map((d) => ({ subject: d.code, message: d.message })) };
  }
  g = { ...g, estimates: opEstimates(g, shapes) };
  const outputs = c.backward ? [OP_IO.o, OP_IO.dq, OP_IO.dk, OP_IO.dv] : [OP_IO.o];
  return { plan: { plan: lowerToPlan(g, { file: "", hash: "" }), inputs, outputs }, errors: [] };
}
