// `lasp compile` and `lasp explain` run in-process: exit codes (0 ok, 1 spec error, 2 usage error), the plan
// written with -o, --dump-after, and explain's JSON (bytes per rank per comm op) and table.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { validatePlan } from "../../compiler/plan/validate.ts";

const run = runCli;

afterEach(() => vi.restoreAllMocks());
const dir = mkdtempSync(join(tmpdir(), "lasp-compile-"));

describe("lasp compile", () => {
  it("writes a valid plan with -o", async () => {
    const out = join(dir, "tiny.plan.json");
    const r = await run(["compile", "examples/tiny.lasp", "-o", out]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(readFileSync(out, "utf8"));
    expect(validatePlan(plan)).toEqual([]);
    expect(plan.source.file).toBe("examples/tiny.lasp");
    expect(plan.source.hash).toMatch(/^[0-9a-f]{64}$/);
  });
  it("applies --set overrides and prints the plan to stdout", async () => {
    const r = await run(["compile", "examples/tiny.lasp", "--set", "parallel.sp=4"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).mesh.sp).toBe(4);
  });
  it("dumps the IR after a pass to stderr", async () => {
    const r = await run(["compile", "examples/tiny.lasp", "--dump-after=insert-comm", "-o", join(dir, "x.json")]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("// IR after insert-comm");
    expect(r.err).toMatch(/collective\{.*collective=all_gather/);
  });
  it("exits 2 on usage errors, naming the problem", async () => {
    expect((await run(["compile"])).code).toBe(2);
    const bad = await run(["compile", "examples/tiny.lasp", "--dump-after=partitio"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("did you mean partition?");
    expect((await run(["compile", "examples/tiny.lasp", "--bogus"])).code).toBe(2);
  });
  it("exits 1 on spec errors and prints them", async () => {
    const r = await run(["compile", "examples/tiny.lasp", "--set", "parallel.sp=0"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/LASP\d{4}/);
    const missing = await run(["compile", join(dir, "nope.lasp")]);
    expect(missing.code).toBe(1);
  });
});

describe("lasp explain", () => {
  it("--json lists every layer's comm ops with the bytes one rank receives", async () => {
    const r = await run(["explain", "examples/tiny.lasp", "--json", "--set", "parallel.sp=4"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.layers[0]).toMatchObject({ index: 0, kind: "linear", method: "lasp2" });
    expect(j.layers[0].comm).toEqual([
      { op: "all_gather", phase: "forward", bytesPerRank: expect.any(Number) },
      { op: "all_gather", phase: "backward", bytesPerRank: expect.any(Number) },
    ]);
    // tiny: B 8, H 4, dk = dv = 16, W 4: (W-1) B H dk dv 4
    expect(j.layers[0].comm[0].bytesPerRank).toBe(3 * 8 * 4 * 16 * 16 * 4);
    expect(j.layers[1].comm.map((c: { op: string }) => c.op)).toEqual(["all_gather", "reduce_scatter"]);
    expect(j.totals.commBytesForward).toBeGreaterThan(0);
  });
  it("counts the gradient buckets that parallel.bucket cuts (bucket 1: one per weight)", async () => {
    const per = JSON.parse((await run(["explain", "examples/tiny.lasp", "--json", "--set", "parallel.bucket=1"])).out);
    const plan = await run(["compile", "examples/tiny.lasp", "--set", "parallel.bucket=1"]);
    expect(per.totals.gradBuckets).toBe(JSON.parse(plan.out).params.length);
    const one = await run(["explain", "examples/tiny.lasp"]);
    expect(one.out).toMatch(/gradient all-reduce [\d.]+ MiB in 1 bucket of <= 25\.0 MiB;/);
  });
  it("says which layers recompute their forward (train.recompute on, N, off), text and JSON", async () => {
    const all = await run(["explain", "examples/tiny.lasp", "--set", "train.recompute=on"]);
    expect(all.out).toMatch(/^recompute on: the layer's forward compute runs again in its backward/m);
    const two = await run(["explain", "examples/tiny.lasp", "--set", "train.recompute=2"]);
    expect(two.out).toMatch(/^recompute 2 of 4 layers \(layers 0-1\): /m);
    const one = JSON.parse((await run(["explain", "examples/tiny.lasp", "--json", "--set", "train.recompute=1"])).out);
    expect(one.recompute).toBe(1);
    const off = await run(["explain", "examples/tiny.lasp", "--json"]);
    expect(JSON.parse(off.out).recompute).toBe(0);
    // tiny evaluates every 20 steps on 4 held-out batches
    expect((await run(["explain", "examples/tiny.lasp"])).out).toMatch(/^eval every 20 steps: 4 held-out batch\(es\), the forward alone \(4 forward pass/m);
    expect((await run(["explain", "examples/tiny.lasp", "--set", "train.eval=off"])).out).not.toMatch(/^eval every/m);
    // recomputing more layers keeps fewer activations
    const act = async (r: string): Promise<number> =>
      JSON.parse((await run(["explain", "examples/tiny.lasp", "--json", "--set", `train.recompute=${r}`])).out).totals.activationBytes;
    const a = [await act("off"), await act("1"), await act("2"), await act("on")];
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeLessThan(a[i - 1]!);
  });
  it("reads a compiled plan and prints a table", async () => {
    const out = join(dir, "t.plan.json");
    expect((await run(["compile", "examples/tiny.lasp", "-o", out])).code).toBe(0);
    const r = await run(["explain", out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/layer\s+kind\s+method/);
    expect(r.out).toMatch(/0\s+linear\s+lasp2\s+all_gather/);
  });
  it("rejects an invalid plan with its schema path", async () => {
    const out = join(dir, "t.plan.json");
    await run(["compile", "examples/tiny.lasp", "-o", out]);
    const bad = JSON.parse(readFileSync(out, "utf8"));
    bad.forward[0].in = 3;
    const badFile = join(dir, "bad.plan.json");
    (await import("node:fs")).writeFileSync(badFile, JSON.stringify(bad));
    const r = await run(["explain", badFile]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("/forward/0/in");
    expect(r.err).toContain("#/definitions/Step/oneOf/");
  });
});
