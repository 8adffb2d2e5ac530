// Every example parses and checks with no diagnostic, its spec satisfies the JSON schema (checked by
// ajv, not by the DSL's own code), and the paper's models have the layer mixes their names promise.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { loadSpecFile } from "../../dsl/index.ts";
import { Spec } from "../../dsl/spec.ts";

const dir = join(import.meta.dirname, "../../examples");
const files = readdirSync(dir).filter((f) => f.endsWith(".lasp")).sort();
// TypeBox repeats SourceLoc's `$id` at every use, which ajv rejects as ambiguous: drop nested ids.
function withoutNestedIds(x: unknown, root = true): unknown {
  if (Array.isArray(x)) return x.map((v) => withoutNestedIds(v, false));
  if (x === null || typeof x !== "object") return x;
  return Object.fromEntries(Object.entries(x).filter(([k]) => root || k !== "$id").map(([k, v]) => [k, withoutNestedIds(v, false)]));
}
const validate = new Ajv({ strict: false }).compile(withoutNestedIds(JSON.parse(JSON.stringify(Spec))) as object);

function load(name: string) {
  const r = loadSpecFile(join(dir, name));
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  expect(r.spec).toBeDefined();
  return r.spec!;
}

describe("examples", () => {
  it("has the examples the README and the paper runs need", () => {
    for (const f of [
      "linear_llama3_1b.lasp", "linear_llama3_1b_hybrid_1_8.lasp", "linear_llama3_1b_hybrid_1_4.lasp",
      "linear_llama3_1b_hybrid_1_2.lasp", "bidirectional.lasp", "tiny.lasp", "tiny_linear.lasp",
      "mqar_linear.lasp", "mqar_hybrid.lasp",
    ]) expect(files).toContain(f);
  });

  it.each(files)("%s parses and checks cleanly and fits the schema", (f) => {
    const spec = load(f);
    const valid = validate(spec);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(spec.model.layers.map((l) => l.index)).toEqual(spec.model.layers.map((_, i) => i));
    for (const l of spec.model.layers) {
      expect(l.kind === "linear" ? l.linear : l.softmax).toBeDefined();
      expect(l.loc.line).toBeGreaterThan(0);
    }
  });

  it.each([
    ["linear_llama3_1b.lasp", 0],
    ["linear_llama3_1b_hybrid_1_8.lasp", 2],
    ["linear_llama3_1b_hybrid_1_4.lasp", 4],
    ["linear_llama3_1b_hybrid_1_2.lasp", 8],
  ] as const)("%s is Linear-Llama3-1B with %i softmax layers out of 16 on sp 64", (f, nSoftmax) => {
    const s = load(f);
    expect(s.model).toMatchObject({ vocab: 128256, hidden: 2048, heads: 16, kvHeads: 8, headDim: 128, ffn: 8192, ffnKind: "swiglu" });
    expect(s.model.layers).toHaveLength(16);
    expect(s.model.layers.filter((l) => l.kind === "softmax")).toHaveLength(nSoftmax);
    expect(s.parallel.sp).toBe(64);
    expect(s.train.seq).toBe(2048 * 1024);
    if (nSoftmax > 0) {
      const period = 16 / nSoftmax;
      s.model.layers.forEach((l, i) => expect(l.kind).toBe(i % period === period - 1 ? "softmax" : "linear"));
    }
  });

  it("tiny.lasp is the small hybrid a 2-core machine trains", () => {
    const s = load("tiny.lasp");
    expect(s.model).toMatchObject({ vocab: 256, hidden: 64, heads: 4 });
    expect(new Set(s.model.layers.map((l) => l.kind))).toEqual(new Set(["linear", "softmax"]));
    expect(s.parallel.sp).toBe(2);
    expect(s.train).toMatchObject({ seq: 256, batch: 8, data: { kind: "text", path: "builtin:devils-dictionary" } });
  });

  it("MQAR examples give every linear layer a short conv and use sp 4", () => {
    for (const f of ["mqar_linear.lasp", "mqar_hybrid.lasp"]) {
      const s = load(f);
      expect(s.parallel.sp).toBe(4);
      expect(s.train.data.kind).toBe("mqar");
      for (const l of s.model.layers) if (l.kind === "linear") expect(l.linear!.conv).toBeGreaterThan(0);
    }
  });

  it("bidirectional.lasp has no causal layer", () => {
    const s = load("bidirectional.lasp");
    for (const l of s.model.layers) expect((l.linear ?? l.softmax)!.causal).toBe(false);
  });
});
