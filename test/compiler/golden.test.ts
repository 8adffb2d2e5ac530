// Golden plans (canonical JSON, UPDATE_GOLDEN=1 rewrites): hand-written specs covering every SP method,
// and every examples/*.lasp compiled through the DSL. Review golden diffs like code.
import { readFileSync, readdirSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../../dsl/index.ts";
import { compile } from "../../compiler/index.ts";
import { canonicalJson } from "../../compiler/plan/canonical.ts";
import { validatePlan } from "../../compiler/plan/validate.ts";
import type { Spec } from "../../dsl/spec.ts";
import { hybrid14, pureLinear } from "./fixtures.ts";
import { expectGolden, tinySpec } from "./helpers.ts";

const gla = { variant: "gla" as const, feature: "identity" as const, decay: { kind: "gate" as const, rank: 2, tau: 16 }, conv: 3, causal: true };
const lightning = { variant: "lightning" as const, feature: "identity" as const, decay: { kind: "fixed" as const, lambdas: [0.9, 0.99] }, conv: 0, causal: true };

const HAND: [string, Spec][] = [
  ["pure-linear-lasp2", pureLinear()],
  ["hybrid-1-4-lasp2h", hybrid14()],
  ["tiny-lasp1-ulysses", tinySpec({ linear: lightning, model: { kvHeads: 2 }, parallel: { linear: "lasp1", softmax: "ulysses" } })],
  ["tiny-ring-zigzag", tinySpec({ seq: 11, parallel: { linear: "ring", softmax: "ring", sp: 3, layout: "zigzag" } })],
  ["tiny-gla-conv-no-overlap", tinySpec({ pattern: "L", linear: gla, parallel: { overlap: false } })],
];

describe("golden plans of hand-written specs", () => {
  it.each(HAND)("%s", (name, spec) => {
    const r = compile(spec);
    expect(r.diagnostics).toEqual([]);
    expect(validatePlan(r.plan)).toEqual([]);
    expectGolden(`${name}.plan.json`, canonicalJson(r.plan));
  });
});

const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));
const examples = readdirSync(examplesDir).filter((f) => f.endsWith(".lasp")).sort();

describe("every example compiles to its golden plan", () => {
  it("has examples", () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  it.each(examples)("%s", (file) => {
    const path = `examples/${file}`;
    // parse under the repo-relative name, so locs (and so line widths in the golden) never depend on
    // where the repository is checked out
    const loaded = parseSpec(readFileSync(examplesDir + file, "utf8"), path);
    expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const r = compile(loaded.spec!, { source: { file: path, text: loaded.source } });
    expect(r.diagnostics).toEqual([]);
    expect(validatePlan(r.plan)).toEqual([]);
    expect(r.plan!.source.hash).toMatch(/^[0-9a-f]{64}$/);
    // no text hash, so that a comment edited in an example does not churn its golden
    const masked = { ...r.plan!, source: { file: path, hash: "<sha256 of the spec text>" } };
    const text = canonicalJson(masked);
    expectGolden(`examples/${basename(file, ".lasp")}.plan.json`, text);
  });
});
