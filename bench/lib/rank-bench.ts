// The benchmarks' rank entry (worker threads or MPI): for each plan in turn, build the rank's model once,
// run warm-up steps, then timed training steps (runTrainStep, the executor `lasp run` uses), each after a
// barrier so every rank starts together. Backend init and module compile happen once, before any timing.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Plan } from "../../compiler/plan/schema.ts";
import { assertPlan } from "../../compiler/plan/validate.ts";
import { initBackend, type BackendName } from "../../runtime/backend/index.ts";
import type { RankContext } from "../../runtime/comm/context.ts";
import { activeDeviceClock } from "../../runtime/comm/device-clock.ts";
import { localBatch, lossScale, planDataSource } from "../../runtime/exec/batch.ts";
import { expectedBytes, type GroupBytes } from "../../runtime/exec/expected-bytes.ts";
import { createRankModel, runTrainStep } from "../../runtime/exec/rank-model.ts";
import { seedWeights } from "../../runtime/exec/seed.ts";

export interface BenchJob {
  /** plans inline (threads), or a JSON file holding the array (MPI: argv is too short for plans) */
  readonly plans?: readonly Plan[];
  readonly plansFile?: string;
  readonly backend: BackendName;
  /** warm-up steps before the first plan of each series (later plans: none; the median absorbs a slow first step) */
  readonly warmup: number;
  readonly reps: number;
  /**
   * a plan expected (from the previous plan of its series, scaled by (N/N_prev)^2) or found (its first
   * timed step) to take longer than this gets one timed step only
   */
  readonly slowStepSeconds: number;
  /** when a plan's step exceeds this, later plans of its `group` with a longer sequence are skipped */
  readonly maxStepSeconds: number;
  /** per plan: a label; plans sharing it form a series cut off by maxStepSeconds (e.g. "linear.ring") */
  readonly groups: readonly string[];
  /** MPI: write the result to <dir>/rank-<R>.json and return it without plans (stdout lines of the
   * ranks interleave under mpirun once they pass the pipe's atomic write size) */
  readonly resultDir?: string;
}

/** One timed step on one rank. */
export interface RankStep {
  readonly stepSeconds: number;
  readonly computeSeconds: number;
  readonly commWaitSeconds: number;
}

export interface RankPlanResult {
  /** null when the plan was skipped (an earlier plan of its series was too slow) */
  readonly steps: RankStep[] | null;
  readonly bytes: GroupBytes | null;
  readonly predicted: GroupBytes;
}

export interface RankBenchResult {
  readonly backend: string;
  readonly rank: number;
  readonly plans: RankPlanResult[];
}

/** The slowest rank's value (all ranks agree on it). */
async function maxOverRanks(ctx: RankContext, x: number, label: string): Promise<number> {
  if (ctx.world.size === 1) return x;
  const all = await ctx.world.startAllGather(Float32Array.of(x), label).wait();
  return Math.max(...all);
}

function loadPlans(job: BenchJob): readonly Plan[] {
  if (job.plans !== undefined) return job.plans;
  if (job.plansFile === undefined) throw new Error("bench job: give plans or plansFile");
  return JSON.parse(readFileSync(job.plansFile, "utf8")) as Plan[];
}

async function benchPlan(ctx: RankContext, plan: Plan, job: BenchJob, index: number, warmup: number, reps0: number): Promise<RankPlanResult> {
  const predicted = expectedBytes(plan, ctx.sp.rank, ctx.dp.rank);
  const model = createRankModel(plan, { sp: ctx.sp, dp: ctx.dp, world: ctx.world }, seedWeights(plan));
  try {
    const global = planDataSource(plan).next(0);
    const local = localBatch(plan, model.info, ctx.dp.rank, global);
    // LASP_BENCH_TIMELINE=DIR: each rank writes the per-step timeline of its last timed step there
    const timelineDir = process.env["LASP_BENCH_TIMELINE"];
    const opts = { checkFinite: false, recordTimeline: timelineDir !== undefined, lossScale: lossScale(global) };
    const steps: RankStep[] = [];
    let bytes: GroupBytes | null = null;
    let reps = reps0;
    // emulated devices: step and wait times in the rank's virtual clock (the barrier aligns the clocks)
    const clock = activeDeviceClock();
    for (let k = 0; k < warmup + reps; k++) {
      await ctx.world.barrier(`bench.${index}.${k}`);
      const v0 = clock?.nowMs() ?? 0;
      const w0 = clock?.waitedMs() ?? 0;
      const r = await runTrainStep(model, local, opts);
      if (k < warmup) continue;
      if (clock !== null) {
        const step = (clock.nowMs() - v0) / 1000;
        const wait = (clock.waitedMs() - w0) / 1000;
        steps.push({ stepSeconds: step, computeSeconds: step - wait, commWaitSeconds: wait });
      } else steps.push({ stepSeconds: r.stepSeconds, computeSeconds: r.computeSeconds, commWaitSeconds: r.commWaitSeconds });
      bytes = r.bytes;
      if (timelineDir !== undefined && r.timeline !== null)
        writeFileSync(join(timelineDir, `plan-${index}-rank-${ctx.rank}.json`), JSON.stringify({ seq: plan.spec.train.seq, method: plan.spec.parallel, events: r.timeline }));
      if (steps.length === 1 && (await maxOverRanks(ctx, r.stepSeconds, `bench.${index}.slow`)) > job.slowStepSeconds) reps = 1;
    }
    return { steps, bytes, predicted };
  } finally {
    for (const name of model.env.names()) model.env.get(name).dispose();
  }
}

export async function rankMain(ctx: RankContext, job: BenchJob): Promise<RankBenchResult> {
  const backend = await initBackend(job.backend);
  const plans = loadPlans(job);
  /** series -> the sequence length whose step exceeded maxStepSeconds */
  const tooSlow = new Map<string, number>();
  /** series -> the previous plan's sequence length and slowest step (the same on every rank) */
  const last = new Map<string, { seq: number; seconds: number }>();
  const out: RankPlanResult[] = [];
  for (const [i, plan] of plans.entries()) {
    assertPlan(plan);
    const group = job.groups[i] ?? String(i);
    if (plan.spec.train.seq > (tooSlow.get(group) ?? Infinity)) {
      out.push({ steps: null, bytes: null, predicted: expectedBytes(plan, ctx.sp.rank, ctx.dp.rank) });
      continue;
    }
    const seq = plan.spec.train.seq;
    const prev = last.get(group);
    const expect = prev === undefined ? 0 : prev.seconds * (seq / prev.seq) ** 2;
    const r = await benchPlan(ctx, plan, job, i, prev === undefined ? job.warmup : 0, expect > job.slowStepSeconds ? 1 : job.reps);
    out.push(r);
    // every rank gets the same maximum, so every rank takes the same decisions for the later plans
    const worst = await maxOverRanks(ctx, Math.max(...(r.steps ?? []).map((s) => s.stepSeconds)), `bench.${i}.max`);
    last.set(group, { seq, seconds: worst });
    if (worst > job.maxStepSeconds) tooSlow.set(group, Math.min(tooSlow.get(group) ?? Infinity, seq));
    ctx.post({ done: i, of: plans.length, tensors: tf.memory().numTensors });
  }
  const result: RankBenchResult = { backend, rank: ctx.rank, plans: out };
  if (job.resultDir === undefined) return result;
  writeFileSync(join(job.resultDir, `rank-${ctx.rank}.json`), JSON.stringify(result));
  return { ...result, plans: [] };
}
