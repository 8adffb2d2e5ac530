// The runtime's numeric equivalence holds over MPI too: one training step of a hybrid model on 2, 3 and 4
// MPI processes equals the single-device step (loss and every weight gradient), and the bytes each process
// received equal the plan's prediction.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { byteMismatches, expectedBytes, type GroupBytes } from "../../runtime/exec/expected-bytes.ts";
import type { StepJobResult } from "../../runtime/exec/rank-entry.ts";
import { relErr } from "../../runtime/exec/verify.ts";
import { smallSpec } from "../exec/helpers.ts";
import { mpirun } from "./mpirun.ts";

function planFor(sp: number, over: string[] = []): Plan {
  const r = compile(smallSpec([`parallel.sp=${sp}`, ...over]));
  if (r.plan === null) throw new Error("compile failed");
  return r.plan;
}

describe("a model step over MPI equals the single-device step", async () => {
  const single = (
    await launchRanks<StepJobResult>({
      sp: 1,
      dp: 1,
      entry: new URL("../../runtime/exec/rank-entry.ts", import.meta.url),
      args: { job: "step", plan: planFor(1), backend: "wasm", step: 0 },
    })
  )[0]!;

  it.each([2, 3, 4])("%i MPI processes, lasp2 + lasp2h, N=37", async (W) => {
    const plan = planFor(W);
    const dir = mkdtempSync(join(tmpdir(), "lasp-mpi-"));
    const planFile = join(dir, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const run = await mpirun(W, "runtime/comm/mpi/entry.ts", ["test/mpi/scripts/model-step.ts", String(W), "1", JSON.stringify({ planFile, outDir: dir })], {
      killAfterMs: 200_000,
    });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    type RankOut = { lossShare: number; grads: Record<string, number[]>; bytes: GroupBytes };
    const results = new Map(Array.from({ length: W }, (_, r) => [r, JSON.parse(readFileSync(join(dir, `rank${r}.json`), "utf8")) as RankOut]));
    expect(results.size).toBe(W);
    const loss = [...results.values()].reduce((s, r) => s + r.lossShare, 0);
    expect(Math.abs(loss - single.lossShare) / single.lossShare).toBeLessThan(1e-5);
    const r0 = results.get(0)!;
    for (const [name, g] of single.grads) expect(relErr(Float32Array.from(r0.grads[name]!), g), name).toBeLessThan(1e-4);
    for (const [rank, r] of results) expect(byteMismatches(r.bytes, expectedBytes(plan, rank, 0)), `rank ${rank}`).toEqual([]);
  }, 240_000);
});

describe("lasp verify --transport mpi", () => {
  it("compares 3 MPI processes with one device, layer by layer, and prints OK", async () => {
    const sets = ["train.seq=37", "train.batch=2", "model.hidden=32", "model.ffn=64", "train.data=random", "model.layers=[linear, softmax]"];
    const args = ["verify", "examples/tiny.lasp", "--ranks", "3", "--transport", "mpi", ...sets.flatMap((s) => ["--set", s])];
    const run = await mpirun(3, "cli/lasp.mjs", args, { killAfterMs: 200_000 });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/on 3 ranks vs 1 device/);
    expect(run.stdout).toMatch(/equal to the plan's prediction/);
    expect(run.stdout.trim().endsWith("OK")).toBe(true);
  }, 240_000);
});
