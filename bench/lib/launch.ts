// Runs the benchmark rank module (rank-bench.ts) on W ranks, over worker threads (launchRanks, one process)
// or MPI (mpirun, one process per rank), and folds the per-rank results into one row per plan.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plan } from "../../compiler/plan/schema.ts";
import type { BackendName } from "../../runtime/backend/index.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { byteMismatches, type GroupBytes } from "../../runtime/exec/expected-bytes.ts";
import type { LinkEmulation } from "../../runtime/comm/link-emulator.ts";
import type { DeviceEmulation } from "../../runtime/comm/device-clock.ts";
import type { BenchJob, RankBenchResult } from "./rank-bench.ts";
import { median } from "./stats.ts";

export type Transport = "threads" | "mpi";

export interface BenchRun {
  readonly ranks: number;
  readonly transport: Transport;
  readonly backend: BackendName;
  readonly warmup: number;
  readonly reps: number;
  readonly slowStepSeconds: number;
  readonly maxStepSeconds: number;
  /** progress line per finished plan */
  readonly onProgress?: (done: number, of: number) => void;
  /** threads only: emulate a cluster interconnect (runtime/comm/link-emulator.ts) */
  readonly link?: LinkEmulation | null;
  /** threads only: emulate a device per rank (runtime/comm/device-clock.ts; needs link) */
  readonly devices?: DeviceEmulation | null;
  /** plans (0, 1), (2, 3), ... are pairs measured interleaved (rank-bench.ts BenchJob.interleave) */
  readonly interleave?: boolean;
}

/** One plan's measurement, over all ranks. */
export interface PlanMeasure {
  /** false: skipped (an earlier plan of its series exceeded maxStepSeconds) */
  readonly ran: boolean;
  /** timed steps */
  readonly k: number;
  /** median over steps of the slowest rank's step time (ranks start each step after a barrier) */
  readonly stepSeconds: number;
  /** every timed step's slowest-rank time, in order */
  readonly steps: number[];
  /** median over steps of the mean over ranks of the time blocked in comm_wait */
  readonly commWaitSeconds: number;
  /** the same for the time in every other step (kernels, packing, comm_start) */
  readonly computeSeconds: number;
  /** bytes received in one step, summed over groups and kinds, by the rank that received most */
  readonly bytesMax: number;
  readonly predictedMax: number;
  /** the same for the SP group only (the attention layer's collectives; the rest is the gradient all-reduce) */
  readonly spBytesMax: number;
  readonly spPredictedMax: number;
  /** measured equals the plan's prediction on every rank, group and collective kind */
  readonly bytesMatch: boolean;
  readonly mismatches: string[];
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// a bundled bench (bench/device-cpu) names its bundled rank module
const ENTRY = process.env["LASP_BENCH_RANK_ENTRY"] ? new URL(process.env["LASP_BENCH_RANK_ENTRY"], "file:///") : new URL("./rank-bench.ts", import.meta.url);

function sumBytes(b: GroupBytes, groups: readonly (keyof GroupBytes)[] = ["sp", "dp", "world"]): number {
  let s = 0;
  for (const g of groups) for (const [k, v] of Object.entries(b[g])) if (k !== "barrier") s += v;
  return s;
}

async function runThreads(job: BenchJob, r: BenchRun): Promise<RankBenchResult[]> {
  return launchRanks<RankBenchResult>({
    sp: r.ranks,
    dp: 1,
    entry: ENTRY,
    args: job,
    // a rank can wait on a slower one for a whole quadratic step: no short blocked-wait limit here
    timeoutMs: 30 * 60_000,
    capacityBytes: 256 * 2 ** 20,
    link: r.link ?? null,
    devices: r.devices ?? null,
    onMessage: (rank, msg) => {
      const m = msg as { done: number; of: number };
      if (rank === 0) r.onProgress?.(m.done + 1, m.of);
    },
  });
}

/** mpirun -np W node --import tsx runtime/comm/mpi/entry.ts bench/lib/rank-bench.ts W 1 '{job}' */
async function runMpi(job: BenchJob, r: BenchRun): Promise<RankBenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "lasp-bench-"));
  try {
    const plansFile = join(dir, "plans.json");
    writeFileSync(plansFile, JSON.stringify(job.plans));
    const { plans: _inline, ...rest } = job;
    const args = JSON.stringify({ ...rest, plansFile, resultDir: dir });
    const argv = ["--oversubscribe", "--bind-to", "none", "-np", String(r.ranks), process.execPath, "--import", "tsx", "runtime/comm/mpi/entry.ts", fileURLToPath(ENTRY), String(r.ranks), "1", args];
    const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", LASP_COMM_TIMEOUT_MS: String(30 * 60_000) };
    await new Promise<string>((resolve, reject) => {
      const p = spawn("mpirun", argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      let so = "";
      let se = "";
      p.stdout.on("data", (d: Buffer) => {
        so += d.toString();
        // rank 0's ctx.post lines (short, so written whole): progress
        for (let nl = so.indexOf("\n"); nl >= 0; nl = so.indexOf("\n")) {
          const m = /^\{"rank":0,"post":\{"done":(\d+),"of":(\d+)/.exec(so.slice(0, nl));
          if (m !== null) r.onProgress?.(Number(m[1]) + 1, Number(m[2]));
          so = so.slice(nl + 1);
        }
      });
      p.stderr.on("data", (d: Buffer) => (se += d.toString()));
      p.on("error", reject);
      p.on("close", (code) => (code === 0 ? resolve(so) : reject(new Error(`mpirun exited with ${code}:\n${se.slice(-4000)}`))));
    });
    return Array.from({ length: r.ranks }, (_, rank) => JSON.parse(readFileSync(join(dir, `rank-${rank}.json`), "utf8")) as RankBenchResult);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every plan (in order, in one launch) and returns one measurement per plan. */
export async function measurePlans(plans: readonly Plan[], groups: readonly string[], r: BenchRun): Promise<{ backend: string; rows: PlanMeasure[] }> {
  const job: BenchJob = { plans, backend: r.backend, warmup: r.warmup, reps: r.reps, slowStepSeconds: r.slowStepSeconds, maxStepSeconds: r.maxStepSeconds, groups, interleave: r.interleave ?? false };
  const ranks = r.transport === "threads" ? await runThreads(job, r) : await runMpi(job, r);
  const rows = plans.map((_, i): PlanMeasure => {
    const per = ranks.map((x) => x.plans[i]!);
    const steps = per.map((p) => p.steps);
    if (steps.some((s) => s === null)) return { ran: false, k: 0, stepSeconds: NaN, steps: [], commWaitSeconds: NaN, computeSeconds: NaN, bytesMax: NaN, predictedMax: NaN, spBytesMax: NaN, spPredictedMax: NaN, bytesMatch: false, mismatches: [] };
    const k = Math.min(...steps.map((s) => s!.length));
    const at = (j: number) => steps.map((s) => s![j]!);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const idx = Array.from({ length: k }, (_, j) => j);
    const mismatches = per.flatMap((p, rank) => byteMismatches(p.bytes!, p.predicted).map((m) => `rank ${rank}: ${m}`));
    return {
      ran: true,
      k,
      stepSeconds: median(idx.map((j) => Math.max(...at(j).map((s) => s.stepSeconds)))),
      steps: idx.map((j) => Math.max(...at(j).map((s) => s.stepSeconds))),
      commWaitSeconds: median(idx.map((j) => mean(at(j).map((s) => s.commWaitSeconds)))),
      computeSeconds: median(idx.map((j) => mean(at(j).map((s) => s.computeSeconds)))),
      bytesMax: Math.max(...per.map((p) => sumBytes(p.bytes!))),
      predictedMax: Math.max(...per.map((p) => sumBytes(p.predicted))),
      spBytesMax: Math.max(...per.map((p) => sumBytes(p.bytes!, ["sp"]))),
      spPredictedMax: Math.max(...per.map((p) => sumBytes(p.predicted, ["sp"]))),
      bytesMatch: mismatches.length === 0,
      mismatches,
    };
  });
  return { backend: ranks[0]!.backend, rows };
}
