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
   * a plan expected (from the previous plan of its series, scaled by N/N_prev, squared with a softmax
   * layer) or found (its first timed step) to take longer than this gets one timed step only
   */
  readonly slowStepSeconds: number;
  /** when a plan's step exceeds this, later plans of its `group` with a longer sequence are skipped */
  readonly maxStepSeconds: number;
  /** per plan: a label; plans sharing it form a series cut off by maxStepSeconds (e.g. "linear.ring") */
  readonly groups: readonly string[];
  /** plans (0, 1), (2, 3), ... are one row's overlap on / off pair: build both, step them in turn */
  readonly interleave?: boolean;
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

/** One plan's model and input, ready to step. */
interface Bench {
  readonly plan: Plan;
  readonly index: number;
  readonly model: ReturnType<typeof createRankModel>;
  readonly local: ReturnType<typeof localBatch>;
  readonly lossScale: number;
  readonly steps: RankStep[];
  bytes: GroupBytes | null;
}

/**
 * Times the plans of one unit: a single plan, or (job.interleave) the overlap on / off pair of one row,
 * stepped in turn (A B, then B A, ...) so drift in the machine's speed falls on both alike.
 */
async function benchUnit(ctx: RankContext, unit: readonly { plan: Plan; index: number }[], job: BenchJob, warmup: number, reps0: number): Promise<RankPlanResult[]> {
  const benches: Bench[] = [];
  // LASP_BENCH_TIMELINE=DIR: each rank writes the per-step timeline of its last timed step there
  const timelineDir = process.env["LASP_BENCH_TIMELINE"];
  // emulated devices: step and wait times in the rank's virtual clock (the barrier aligns the clocks)
  const clock = activeDeviceClock();
  try {
    for (const { plan, index } of unit) {
      const model = createRankModel(plan, { sp: ctx.sp, dp: ctx.dp, world: ctx.world }, seedWeights(plan));
      const global = planDataSource(plan).next(0);
      benches.push({ plan, index, model, local: localBatch(plan, model.info, ctx.dp.rank, global), lossScale: lossScale(global), steps: [], bytes: null });
    }
    const step = async (b: Bench, k: number, timed: boolean): Promise<number> => {
      await ctx.world.barrier(`bench.${b.index}.${k}`);
      const v0 = clock?.nowMs() ?? 0;
      const w0 = clock?.waitedMs() ?? 0;
      const r = await runTrainStep(b.model, b.local, { checkFinite: false, recordTimeline: timelineDir !== undefined, lossScale: b.lossScale });
      if (!timed) return 0;
      if (clock !== null) {
        const t = (clock.nowMs() - v0) / 1000;
        const wait = (clock.waitedMs() - w0) / 1000;
        b.steps.push({ stepSeconds: t, computeSeconds: t - wait, commWaitSeconds: wait });
      } else b.steps.push({ stepSeconds: r.stepSeconds, computeSeconds: r.computeSeconds, commWaitSeconds: r.commWaitSeconds });
      b.bytes = r.bytes;
      if (timelineDir !== undefined && r.timeline !== null)
        writeFileSync(join(timelineDir, `plan-${b.index}-rank-${ctx.rank}.json`), JSON.stringify({ seq: b.plan.spec.train.seq, method: b.plan.spec.parallel, events: r.timeline }));
      return b.steps.at(-1)!.stepSeconds;
    };
    for (const b of benches) for (let k = 0; k < warmup; k++) await step(b, k, false);
    let reps = reps0;
    for (let k = 0; k < reps; k++) {
      const order = k % 2 === 0 ? benches : [...benches].reverse();
      let worst = 0;
      for (const b of order) worst = Math.max(worst, await step(b, warmup + k, true));
      if (k === 0 && (await maxOverRanks(ctx, worst, `bench.${unit[0]!.index}.slow`)) > job.slowStepSeconds) reps = 1;
    }
    return benches.map((b) => ({ steps: b.steps, bytes: b.bytes, predicted: expectedBytes(b.plan, ctx.sp.rank, ctx.dp.rank) }));
  } finally {
    for (const b of benches) for (const name of b.model.env.names()) b.model.env.get(name).dispose();
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
  // units: single plans, or with job.interleave the pairs (0, 1), (2, 3), ... of one group and length
  const units: number[][] = [];
  for (let i = 0; i < plans.length; i += job.interleave === true ? 2 : 1) units.push(job.interleave === true && i + 1 < plans.length ? [i, i + 1] : [i]);
  for (const unit of units) {
    for (const i of unit) assertPlan(plans[i]!);
    const i = unit[0]!;
    const plan = plans[i]!;
    const group = job.groups[i] ?? String(i);
    if (unit.some((j) => (job.groups[j] ?? String(j)) !== group || plans[j]!.spec.train.seq !== plan.spec.train.seq))
      throw new Error(`bench job: interleaved plans ${unit.join(", ")} differ in group or length`);
    if (plan.spec.train.seq > (tooSlow.get(group) ?? Infinity)) {
      for (const j of unit) out.push({ steps: null, bytes: null, predicted: expectedBytes(plans[j]!, ctx.sp.rank, ctx.dp.rank) });
      continue;
    }
    const seq = plan.spec.train.seq;
    const prev = last.get(group);
    // a step grows with N like its attention: quadratically with a softmax layer, linearly without one
    const power = plan.spec.model.layers.some((l) => l.kind === "softmax") ? 2 : 1;
    const expect = prev === undefined ? 0 : prev.seconds * (seq / prev.seq) ** power;
    const rs = await benchUnit(ctx, unit.map((j) => ({ plan: plans[j]!, index: j })), job, prev === undefined ? job.warmup : 0, expect > job.slowStepSeconds ? 1 : job.reps);
    out.push(...rs);
    // every rank gets the same maximum, so every rank takes the same decisions for the later plans
    const worst = await maxOverRanks(ctx, Math.max(...rs.flatMap((r) => (r.steps ?? []).map((s) => s.stepSeconds))), `bench.${i}.max`);
    last.set(group, { seq, seconds: worst });
    if (worst > job.maxStepSeconds) tooSlow.set(group, Math.min(tooSlow.get(group) ?? Infinity, seq));
    ctx.post({ done: unit.at(-1)!, of: plans.length, tensors: tf.memory().numTensors });
  }
  const result: RankBenchResult = { backend, rank: ctx.rank, plans: out };
  if (job.resultDir === undefined) return result;
  writeFileSync(join(job.resultDir, `rank-${ctx.rank}.json`), JSON.stringify(result));
  return { ...result, plans: [] };
}
