// The plan schema: plan.schema.json is up to date, compiled plans validate, hand-broken plans are rejected
// with the instance path and an absolute schema path that resolves in plan.schema.json; canonical JSON.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { planSchemaJson } from "../../compiler/plan/schema-json.ts";
import { validatePlan, assertPlan } from "../../compiler/plan/validate.ts";
import { canonicalJson } from "../../compiler/plan/canonical.ts";
import { hybrid14, pureLinear } from "./fixtures.ts";

const schemaFile = new URL("../../plan.schema.json", import.meta.url);

/** Follows a JSON pointer like #/definitions/Step/oneOf/3/properties/in/type. */
function resolvePointer(doc: unknown, ptr: string): unknown {
  return ptr
    .replace(/^#\//, "")
    .split("/")
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests below break plans field by field
const fresh = () => JSON.parse(JSON.stringify(compile(hybrid14()).plan)) as Record<string, any>;

describe("plan schema", () => {
  it("plan.schema.json is up to date (npx tsx compiler/plan/write-schema.ts)", () => {
    expect(readFileSync(schemaFile, "utf8")).toBe(planSchemaJson());
  });

  it("accepts compiled plans", () => {
    expect(validatePlan(compile(pureLinear()).plan)).toEqual([]);
    expect(validatePlan(fresh())).toEqual([]);
    expect(() => assertPlan(fresh())).not.toThrow();
  });

  it("rejects a step whose `in` is not a list, naming both paths", () => {
    const p = fresh();
    const op = p["forward"][3].op as string;
    p["forward"][3].in = "x0";
    const errs = validatePlan(p);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.instancePath).toBe("/forward/3/in");
    const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
    expect(errs[0]!.schemaPath).toMatch(/^#\/definitions\/Step\/oneOf\/\d+\/properties\/in\/type$/);
    // the path leads to the rule that failed, in the branch of this step's op
    expect(resolvePointer(schema, errs[0]!.schemaPath)).toBe("array");
    const branch = errs[0]!.schemaPath.replace(/\/properties\/in\/type$/, "");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON schema node, walked by hand
    expect((resolvePointer(schema, branch) as any).properties.op.const).toBe(op);
  });

  it("rejects an unknown op, an extra attribute, a missing attribute and a bad loc", () => {
    const p = fresh();
    p["forward"][0].op = "embed_all";
    p["backward"][1].extra = 1;
    delete p["forward"][1].eps;
    p["gradSync"][0].loc.line = -3;
    const errs = validatePlan(p);
    const at = (ip: string) => errs.filter((e) => e.instancePath === ip);
    expect(at("/forward/0").length).toBeGreaterThan(0);
    expect(at("/backward/1").map((e) => e.message)).toContain("must NOT have additional properties");
    expect(at("/forward/1").map((e) => e.schemaPath)).toContainEqual(expect.stringMatching(/^#\/definitions\/Step\/oneOf\/\d+\/required$/));
    expect(at("/gradSync/0/loc/line").map((e) => e.schemaPath)).toEqual(["#/definitions/SourceLoc/properties/line/minimum"]);
    expect(() => assertPlan(p)).toThrow(/invalid plan/);
  });

  it("rejects a wrong format tag and a broken embedded spec", () => {
    const p = fresh();
    p["format"] = "lasp-plan/0";
    p["spec"].model.heads = 0;
    const errs = validatePlan(p);
    expect(errs.map((e) => e.instancePath)).toEqual(expect.arrayContaining(["/format", "/spec/model/heads"]));
    const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
    for (const e of errs) expect(resolvePointer(schema, e.schemaPath)).not.toBeUndefined();
  });
});

describe("canonical JSON", () => {
  it("sorts keys at every depth and round-trips", () => {
    const v = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" }, e: [] };
    const t = canonicalJson(v);
    expect(t).toBe('{\n  "a": {\n    "c": "x",\n    "d": [\n      3,\n      {"y": 2, "z": 1}\n    ]\n  },\n  "b": 1,\n  "e": []\n}\n');
    expect(JSON.parse(t)).toEqual(v);
  });
  it("writes a long object inside an array over several lines", () => {
    const long = { k: "x".repeat(500) };
    expect(canonicalJson([long, { a: 1 }])).toBe(`[\n  {\n    "k": "${"x".repeat(500)}"\n  },\n  {"a": 1}\n]\n`);
  });
  it("prints numbers stably and rejects non-finite ones", () => {
    expect(canonicalJson([0.1 + 0.2, 1e21, -0, 1 / 3])).toBe("[0.3, 1e+21, 0, 0.333333333333]\n");
    expect(() => canonicalJson([Infinity])).toThrow(RangeError);
  });
  it("is independent of key insertion order", () => {
    expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } })).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }));
  });
});
