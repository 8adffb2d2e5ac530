// train { eval every K }: the held-out loss, forward only, through the real CLI. It must not change training
// (random data: the same losses bit for bit as without it), it comes every K steps and after the last, and
// it is the same on 2 SP ranks, on 1 rank, and on dp 2 x accum 2 (float32 tolerance).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetrics } from "../../runtime/train/metrics.ts";
import { spawnSync } from "node:child_process";
import { deterministicMetrics, killAll, ROOT, runLasp, SPEC, type RunResult } from "./helpers.ts";

const STEPS = 7;
const LIMIT_MS = 300_000;
let tmp = "";
const runs = new Map<string, { metrics: string; result: RunResult }>();

async function train(name: string, extra: readonly string[]): Promise<void> {
  const dir = path.join(tmp, name);
  const metrics = path.join(dir, "metrics.jsonl");
  const result = await runLasp([SPEC, "--steps", String(STEPS), "--out", dir, "--metrics", metrics, "--quiet", "--set", "train.data=random", ...extra]);
  runs.set(name, { metrics, result });
}

const EVAL = ["--set", "train.eval.every=3", "--set", "train.eval.batches=2"];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lasp-eval-"));
  await Promise.all([
    train("off", ["--ranks", "2"]),
    train("sp2", ["--ranks", "2", "--save", path.join(tmp, "sp2", "ck"), ...EVAL]),
    train("sp1", ["--ranks", "1", ...EVAL]),
    train("dp2accum2", ["--ranks", "2", "--set", "parallel.sp=1", "--set", "parallel.dp=2", "--set", "train.accum=2", ...EVAL]),
  ]);
}, LIMIT_MS);

afterAll(() => {
  killAll();
  if (tmp !== "") fs.rmSync(tmp, { recursive: true, force: true });
});

const held = (name: string): [number, number][] =>
  readMetrics(runs.get(name)!.metrics)
    .filter((m) => typeof m["evalLoss"] === "number")
    .map((m) => [m.step + 1, m["evalLoss"] as number]);

describe("held-out evaluation (train.eval)", () => {
  it("runs every 3 steps and after the last, and says so", () => {
    for (const r of runs.values()) expect(r.result.code, r.result.stderr).toBe(0);
    expect(held("sp2").map(([s]) => s)).toEqual([3, 6, 7]);
    expect(held("off")).toEqual([]);
    expect(runs.get("sp2")!.result.stdout).toMatch(/held-out loss \(train\.eval, 2 batch\(es\)\): step 3 [\d.]+, step 6 [\d.]+, step 7 [\d.]+/);
  });

  it("does not change training: the same losses, bit for bit, as without it", () => {
    const strip = (name: string) => deterministicMetrics(runs.get(name)!.metrics);
    expect(strip("sp2")).toEqual(strip("off"));
  });

  it("is the same on 2 SP ranks, on 1 rank, and on dp 2 x accum 2", () => {
    const ref = held("sp2");
    for (const name of ["sp1", "dp2accum2"]) {
      const got = held(name);
      expect(got.map(([s]) => s)).toEqual(ref.map(([s]) => s));
      got.forEach(([, l], i) => expect(Math.abs(l - ref[i]![1]) / ref[i]![1], `${name} step ${got[i]![0]}`).toBeLessThan(1e-4));
    }
    // held-out batches are not the training batches: the held-out loss is its own number
    const train = readMetrics(runs.get("sp2")!.metrics);
    for (const [s, l] of ref) expect(l).not.toBe(train[s - 1]!.loss);
  });
});

describe("lasp eval", () => {
  const lasp = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "cli/lasp.mjs"), "eval", SPEC, "--set", "train.data=random", ...args], { cwd: ROOT, encoding: "utf8" });
  it("a checkpoint's held-out loss on 1 rank equals what training measured after its last step on 2", () => {
    const r = lasp([...EVAL, "--ranks", "1", "--resume", path.join(tmp, "sp2", "ck"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const [step, loss] = held("sp2").at(-1)!;
    expect(j.step).toBe(step);
    expect(j.batches).toBe(2);
    expect(Math.abs(j.loss - loss) / loss).toBeLessThan(1e-4);
  });
  it("a missing checkpoint: exit 1 and a message, no stack trace", () => {
    const r = lasp(["--resume", tmp]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lasp eval: rank \d threw Error: --resume .*: no checkpoint found there/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
