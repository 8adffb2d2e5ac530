// Test helpers: run the pipeline up to a pass, compare text with a golden file (UPDATE_GOLDEN=1 rewrites),
// the contract every pass test checks, and queries on plans (comm steps per layer and phase).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Spec } from "../../dsl/spec.ts";
import { initialGraph, type Graph } from "../../compiler/ir/graph.ts";
import { printGraph } from "../../compiler/ir/print.ts";
import { verify } from "../../compiler/ir/verify.ts";
import { PIPELINE } from "../../compiler/passes/pipeline.ts";
import type { Plan, Step, StepOf } from "../../compiler/plan/schema.ts";
import { makeSpec, type SpecOptions } from "./fixtures.ts";

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

/** A tiny hybrid (linear, softmax) on 2 ranks: small enough that its printed IR reads as a golden. */
export function tinySpec(over: SpecOptions = {}): Spec {
  return makeSpec({
    pattern: "LN",
    seq: 8,
    batch: 1,
    ...over,
    model: { vocab: 16, hidden: 8, heads: 2, kvHeads: 1, headDim: 4, valueDim: 4, ffn: 16, ...over.model },
    parallel: { sp: 2, block: 4, ...over.parallel },
  });
}

/**
 * The contract every pass test checks: on `spec`, the pass's printed output matches
 * test/golden/ir/<name>.txt, the result verifies, and running the pass again changes nothing.
 */
export function passContract(name: string, spec: Spec): void {
  describe(`${name}: contract`, () => {
    const pass = passNamed(name);
    const before = graphBefore(spec, name);
    const after = pass.run(before, {});
    it("prints as the golden IR", () => {
      expectGolden(`ir/${name}.txt`, `# IR after ${name}\n${printGraph(after)}`);
    });
    it("leaves a valid IR", () => {
      expect(verify(after)).toEqual([]);
    });
    it("is idempotent (running it twice changes nothing)", () => {
      expect(printGraph(pass.run(after, {}))).toBe(printGraph(after));
    });
    it("does not modify its input", () => {
      const snapshot = JSON.stringify(before);
      pass.run(before, {});
      expect(JSON.stringify(before)).toBe(snapshot);
    });
  });
}
