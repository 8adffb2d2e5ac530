// `lasp simulate` in-process: the --json shape, the table sorted by step time with ratios against
// lasp2/lasp2h, and usage errors (exit 2) that name the flag.
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { parseCount } from "../../cli/commands/simulate.ts";

const run = runCli;
afterEach(() => vi.restoreAllMocks());

describe("lasp simulate", () => {
  it("--json keeps the result shape, one row per method combination", async () => {
    const r = await run(["simulate", "examples/tiny.lasp", "--gpus", "4", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { results: Record<string, unknown>[]; gpus: number; sp: number };
    expect(j.gpus).toBe(4);
    expect(j.sp).toBe(4);
    expect(j.results).toHaveLength(9); // 3 linear x 3 softmax methods
    for (const x of j.results) {
      expect(typeof x.linear).toBe("string");
      expect(typeof x.softmax).toBe("string");
      for (const k of ["tokensPerSec", "stepSeconds", "memoryBytesPerDevice"]) expect(x[k]).toBeGreaterThan(0);
      expect(typeof x.fits).toBe("boolean");
      expect(x.tokensPerSec as number).toBeCloseTo((8 * 256) / (x.stepSeconds as number), 3);
    }
    const steps = j.results.map((x) => x.stepSeconds as number);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(j.results.find((x) => x.linear === "lasp2" && x.softmax === "lasp2h")!.vsLasp2).toBe(1);
  });
  it("prints a table sorted by step time, --seq with a K suffix, pure-linear models vary only the linear method", async () => {
    const r = await run([
      "simulate",
      "test/cost/fixtures/linear2.lasp",
      "--gpus",
      "8",
      "--seq",
      "64K",
      "--hardware",
      "a100-80gb",
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("seq=65536");
    expect(r.out).toContain("A100-80GB");
    const rows = r.out.split("\n").filter((l) => /^(lasp2|lasp1|ring) /.test(l));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^lasp2 .* 1\.000x /);
    expect(rows.map((l) => l.split(/ +/)[0]).sort()).toEqual(["lasp1", "lasp2", "ring"]);
    const ratios = rows.map((l) => Number(/ (\d+\.\d+)x /.exec(l)![1]));
    expect(ratios).toEqual([...ratios].sort((a, b) => a - b)); // sorted by step time
  });
  it("reports a compiler refusal as a skipped combination", async () => {
    // tiny has 4 heads: Ulysses cannot split them over 8 ranks
    const r = await run(["simulate", "examples/tiny.lasp", "--gpus", "8", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { results: { softmax: string }[]; skipped: { softmax: string; reason: string }[] };
    expect(j.results.some((x) => x.softmax === "ulysses")).toBe(false);
    expect(j.skipped.map((s) => s.softmax)).toEqual(["ulysses", "ulysses", "ulysses"]);
  });
  it.each([
    [["examples/tiny.lasp"], "--gpus"],
    [["examples/tiny.lasp", "--gpus", "0"], "--gpus"],
    [["examples/tiny.lasp", "--gpus", "two"], "--gpus"],
    [["examples/tiny.lasp", "--gpus", "4", "--seq", "-1"], "--seq"],
    [["examples/tiny.lasp", "--gpus", "4", "--hardware", "h1000"], "--hardware"],
    [["examples/tiny.lasp", "--gpus", "4", "--dtype", "fp8"], "--dtype"],
    [["examples/tiny.lasp", "--gpu", "4"], "--gpu"],
    [["examples/tiny.lasp", "--gpus", "3", "--set", "parallel.dp=2"], "--gpus"],
  ])("usage error %j exits 2 naming %s", async (args, flag) => {
    const r = await run(["simulate", ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(flag);
  });
  it("parses counts with K and M suffixes", () => {
    expect(parseCount("seq", "2048K")).toBe(2097152);
    expect(parseCount("seq", "1M")).toBe(1048576);
    expect(parseCount("gpus", "64")).toBe(64);
  });
});
