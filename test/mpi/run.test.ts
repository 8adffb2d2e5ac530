// `lasp run --transport mpi` trains under mpirun exactly like the worker-thread run: the same losses,
// step by step, from the same seed (both sum gradients with the same reduce-scatter + all-gather order).
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readMetrics } from "../../runtime/train/metrics.ts";
import { ROOT, mpirun } from "./mpirun.ts";

const SETS = ["train.seq=32", "train.batch=2", "model.hidden=32", "model.ffn=64", "model.layers=[linear, softmax]"];
const args = (out: string) => ["run", "examples/tiny.lasp", "--ranks", "2", "--steps", "3", "--out", out, "--quiet", ...SETS.flatMap((s) => ["--set", s])];

describe("lasp run --transport mpi", () => {
  it("2 MPI processes give the worker-thread run's losses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lasp-run-mpi-"));
    const threads = spawnSync(process.execPath, ["cli/lasp.mjs", ...args(join(dir, "threads"))], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    expect(threads.status, threads.stderr).toBe(0);
    const mpi = await mpirun(2, "cli/lasp.mjs", [...args(join(dir, "mpi")), "--transport", "mpi"], { killAfterMs: 180_000 });
    expect(mpi.code, mpi.stderr.slice(-2000)).toBe(0);
    const a = readMetrics(join(dir, "threads", "metrics.jsonl")).map((m) => m.loss);
    const b = readMetrics(join(dir, "mpi", "metrics.jsonl")).map((m) => m.loss);
    expect(a.length).toBe(3);
    expect(b).toEqual(a);
  }, 400_000);
});
