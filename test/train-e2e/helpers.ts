// Helpers for the training end-to-end tests: spawn `node cli/lasp.mjs run ...` as a real child process
// (so a kill is a real SIGKILL of the trainer), read metrics without their wall-clock fields.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readMetrics } from "../../runtime/train/metrics.ts";
import { readSafetensors, toFloat32 } from "../../runtime/io/safetensors.ts";
import { stepDirName } from "../../runtime/train/checkpoint.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SPEC = path.join(ROOT, "test/train-e2e/small.lasp");

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const live = new Set<ChildProcess>();

/** SIGKILL every child still running (afterAll: a timed-out test must not leave a trainer behind). */
export function killAll(): void {
  for (const c of live) c.kill("SIGKILL");
  live.clear();
}

/** Start `lasp run` with these arguments; `done` resolves when the process exits. */
export function startLasp(args: readonly string[]): { child: ChildProcess; done: Promise<RunResult> } {
  const child = spawn(process.execPath, [path.join(ROOT, "cli/lasp.mjs"), "run", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

export function runLasp(args: readonly string[]): Promise<RunResult> {
  return startLasp(args).done;
}

/** Poll until `file` exists (or the process ends first: then reject). */
export async function waitForFile(file: string, exited: () => boolean, pollMs = 25): Promise<void> {
  for (;;) {
    if (fs.existsSync(file)) return;
    if (exited()) throw new Error(`the process ended before ${file} appeared`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Fields that must not depend on wall-clock time: the deterministic part of a metrics record. */
const DETERMINISTIC = ["step", "loss", "accuracy", "lr", "gradNorm", "commBytesPerRank"] as const;

export function deterministicMetrics(file: string): Record<string, unknown>[] {
  return readMetrics(file).map((m) => Object.fromEntries(DETERMINISTIC.filter((k) => k in m).map((k) => [k, m[k]])));
}

export function losses(file: string): number[] {
  return readMetrics(file).map((m) => m.loss);
}

/** Weights of one checkpoint dir (step-NNNNNNNN) as name -> float32 values. */
export function checkpointWeights(dir: string): Map<string, Float32Array> {
  const c = readSafetensors(path.join(dir, "weights.safetensors"));
  return new Map([...c.tensors].map(([k, t]) => [k, toFloat32(t)]));
}

/** Largest absolute difference over every value of every weight, and the weight where it is. */
export function maxWeightDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { abs: number; name: string } {
  let worst = { abs: 0, name: "" };
  for (const [name, x] of a) {
    const y = b.get(name);
    if (y === undefined || y.length !== x.length) throw new Error(`weight ${name} missing or of another size in the second checkpoint`);
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      if (d > worst.abs) worst = { abs: d, name };
    }
  }
  if (b.size !== a.size) throw new Error(`checkpoints hold ${a.size} and ${b.size} weights`);
  return worst;
}

export function stepDir(root: string, step: number): string {
  return path.join(root, stepDirName(step));
}
