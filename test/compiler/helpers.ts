// Test helpers: run the pipeline up to a pass, compare text with a golden file (UPDATE_GOLDEN=1 rewrites),
// and query plans (comm steps per layer and phase).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { Spec } from "../../dsl/spec.ts";
import { initialGraph, type Graph } from "../../compiler/ir/graph.ts";
import { PIPELINE } from "../../compiler/passes/pipeline.ts";
import type { Plan, Step, StepOf } from "../../compiler/plan/schema.ts";

export const GOLDEN_DIR = fileURLToPath(new URL("../golden/", import.meta.url));

/** The graph right before pass `name` runs (every earlier pass applied). */
export function graphBefore(spec: Spec, name: string): Graph {
  let g = initialGraph(spec);
  for (const p of PIPELINE) {
    if (p.name === name) return g;
    g = p.run(g, {});
  }
  throw new Error(`no pass ${name}`);
}

export function passNamed(name: string) {
  const p = PIPELINE.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no pass ${name}`);
  return p;
}

/** Compares `text` with test/golden/<rel>; UPDATE_GOLDEN=1 writes it instead. */
export function expectGolden(rel: string, text: string): void {
  const path = GOLDEN_DIR + rel;
  if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(path)) {
    if (process.env["UPDATE_GOLDEN"] !== "1" && process.env["CI"] !== undefined) throw new Error(`missing golden ${rel}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return;
  }
  expect(text).toBe(readFileSync(path, "utf8"));
}

export const steps = (p: Plan): Step[] => [...p.forward, ...p.backward, ...p.gradSync];

export function commStarts(p: Plan, filter: { layer?: number | null; phase?: string } = {}): StepOf<"comm_start">[] {
  return steps(p).filter(
    (s): s is StepOf<"comm_start"> =>
      s.op === "comm_start" &&
      (filter.layer === undefined || s.layer === filter.layer) &&
      (filter.phase === undefined || s.phase === filter.phase),
  );
}
