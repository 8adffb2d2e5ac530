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
const sets = SETS.flatMap((s) => ["--set", s]);
const args = (out: string) => ["run", "examples/tiny.lasp", "--ranks", "2", "--steps", "3", "--out", out, "--quiet", ...sets];

describe("lasp run --transport mpi", () => {
  it("2 MPI processes give the worker-thread run's losses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lasp-run-mpi-"));
    const threads = spawnSync(process.execPath, ["cli/lasp.mjs", ...args(join(dir, "threads")), "--save", join(dir, "ck")], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    expect(threads.status, threads.stderr).toBe(0);
    const mpi = await mpirun(2, "cli/lasp.mjs", [...args(join(dir, "mpi")), "--transport", "mpi"], { killAfterMs: 180_000 });
    expect(mpi.code, mpi.stderr.slice(-2000)).toBe(0);
    const a = readMetrics(join(dir, "threads", "metrics.jsonl")).map((m) => m.loss);
    const b = readMetrics(join(dir, "mpi", "metrics.jsonl")).map((m) => m.loss);
    expect(a.length).toBe(3);
    expect(b).toEqual(a);
    // tiny evaluates on held-out batches after the last step: the same under MPI
    const held = (f: string) => readMetrics(f).map((m) => m["evalLoss"]).filter((x) => x !== undefined);
    const heldThreads = held(join(dir, "threads", "metrics.jsonl"));
    expect(heldThreads.length).toBe(1);
    expect(held(join(dir, "mpi", "metrics.jsonl"))).toEqual(heldThreads);
    // lasp eval --transport mpi of the saved checkpoint: what training measured after its last step
    const ev = await mpirun(2, "cli/lasp.mjs", ["eval", "examples/tiny.lasp", "--ranks", "2", "--resume", join(dir, "ck"), "--transport", "mpi", ...sets], { killAfterMs: 180_000 });
    expect(ev.code, ev.stderr.slice(-2000)).toBe(0);
    expect(ev.stdout).toMatch(/step-00000003 \(after step 3\)/);
    const loss = Number(/held-out loss ([\d.]+)/.exec(ev.stdout)?.[1]);
    expect(Math.abs(loss - (heldThreads[0] as number))).toBeLessThan(1e-4);
  }, 400_000);
});
