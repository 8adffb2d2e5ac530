// compile(spec) -> plan: runs the pass pipeline (passes/pipeline.ts), the IR verifier after every pass,
// and lowers the result to the plan JSON. User errors come back as diagnostics; broken invariants throw.
import { createHash } from "node:crypto";
import { InternalError, type Diagnostic } from "../dsl/diagnostic.ts";
import type { Spec } from "../dsl/spec.ts";
import { initialGraph, type Graph } from "./ir/graph.ts";
import { verify } from "./ir/verify.ts";
import { printGraph } from "./ir/print.ts";
import { PIPELINE, PASS_NAMES } from "./passes/pipeline.ts";
import { lowerToPlan } from "./plan/lower.ts";
import type { Plan } from "./plan/schema.ts";

export type { Plan, Step } from "./plan/schema.ts";
export { PASS_NAMES } from "./passes/pipeline.ts";

export interface CompileOptions {
  /** print the IR after this pass ("all": after every pass) into `dumps` */
  readonly dumpAfter?: string;
  /** the spec's file and text: diagnostics get byte spans, the plan records the file and text hash */
  readonly source?: { readonly file: string; readonly text: string };
}

export interface CompileResult {
  /** null when there are errors */
  readonly plan: Plan | null;
  readonly diagnostics: Diagnostic[];
  readonly dumps: { pass: string; text: string }[];
  /** the final IR (for tests and explain) */
  readonly graph: Graph;
}

function loweredAt(index: number) {
  const after = (name: string) => index >= PASS_NAMES.indexOf(name);
  return { attention: after("insert-comm"), collectives: after("schedule-overlap") };
}

export function compile(spec: Spec, opts: CompileOptions = {}): CompileResult {
  const dumpAfter = opts.dumpAfter;
  if (dumpAfter !== undefined && dumpAfter !== "all" && !PASS_NAMES.includes(dumpAfter)) {
    throw new RangeError(`unknown pass '${dumpAfter}' (passes: ${PASS_NAMES.join(", ")})`);
  }
  const ctx = opts.source !== undefined ? { source: opts.source.text } : {};
  let g = initialGraph(spec);
  const dumps: { pass: string; text: string }[] = [];
  for (const [i, pass] of PIPELINE.entries()) {
    g = pass.run(g, ctx);
    const errs = verify(g, { lowered: loweredAt(i) });
    if (errs.length > 0) throw new InternalError(`IR invalid after pass ${pass.name}:\n  ${errs.slice(0, 10).join("\n  ")}`);
    if (dumpAfter === pass.name || dumpAfter === "all") dumps.push({ pass: pass.name, text: printGraph(g) });
    if (g.diagnostics.some((d) => d.severity === "error")) return { plan: null, diagnostics: [...g.diagnostics], dumps, graph: g };
  }
  const source =
    opts.source !== undefined
      ? { file: opts.source.file, hash: createHash("sha256").update(opts.source.text).digest("hex") }
      : { file: "", hash: "" };
  return { plan: lowerToPlan(g, source), diagnostics: [...g.diagnostics], dumps, graph: g };
}
