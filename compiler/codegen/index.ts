// Code generation entry: a compiled plan (and its final IR, for shapes) -> the TypeScript module text.
// The shapes come from the estimate pass's shape walk on SP rank 0, so the comments match the cost model.
import type { Graph } from "../ir/graph.ts";
import type { Plan } from "../plan/schema.ts";
import { bufferShapes } from "../passes/estimate.ts";
import { emitTs, type EmitOptions } from "./emit-ts.ts";

export { emitTs, type EmitOptions } from "./emit-ts.ts";

/** The module for `plan`; with the compile's final graph the step comments carry rank 0's shapes. */
export function emitPlanModule(plan: Plan, graph: Graph | null, opts: Omit<EmitOptions, "shapes">): string {
  return emitTs(plan, graph === null ? opts : { ...opts, shapes: bufferShapes(graph, 0) });
}
