// Rank entry of bench/gpu/methods.ts: for each compiled plan, build the rank's model once, run warm-up
// and timed training steps through the plan interpreter (runTrainStep, what `lasp run` executes), after
// a barrier each; results are posted per plan, so the launcher can print each row as it completes.
import * as tf from "@tensorflow/tfjs-core";
import type { Plan } from "../../compiler/plan/schema.ts";
import { assertPlan } from "../../compiler/plan/validate.ts";
import { initBackend, type BackendName } from "../../runtime/backend/index.ts";
import { stopWebGPU, webgpuErrorCount } from "../../runtime/backend/webgpu.ts";
import { setRankOnNode } from "../../runtime/backend/vk-device-tag.ts";
import type { RankContext } from "../../runtime/comm/context.ts";
import {
  localBatch,
  lossScale,
  planDataSource,
} from "../../runtime/exec/batch.ts";
import {
  expectedBytes,
  type GroupBytes,
} from "../../runtime/exec/expected-bytes.ts";
import {
  createRankModel,
  runTrainStep,
} from "../../runtime/exec/rank-model.ts";
import { seedWeights } from "../../runtime/exec/seed.ts";

export interface MethodsJob {
  readonly plans: readonly Plan[];
  readonly backend: BackendName;
  readonly warmup: number;
  readonly reps: number;
  /** Date.now() after which no further plan starts (ranks agree through a max over ranks) */
  readonly deadlineMs: number;
  /** a plan whose warm-up step (or first timed step) took longer than this gets one timed step only */
  readonly slowStepSeconds: number;
}

export interface RankStep {
  readonly stepSeconds: number;
  readonly computeSeconds: number;
  readonly commWaitSeconds: number;
}

export interface RankPlanResult {
  /** null: skipped (the deadline had passed) */
  readonly steps: RankStep[] | null;
  readonly warmupSeconds: number[];
  readonly bytes: GroupBytes | null;
  readonly predicted: GroupBytes;
  readonly lossShare: number;
  /** sum of squares of every gradient (summed over ranks by the plan, so every rank agrees) */
  readonly gradSq: number;
  /** uncaptured GPU errors while this plan ran: its numbers are void when > 0 */
  readonly gpuErrors: number;
}

/** What each rank posts after each plan. */
export interface MethodsProgress {
  readonly done: number;
  readonly of: number;
  readonly tensors: number;
  readonly result: RankPlanResult;
}

export interface MethodsRankResult {
  readonly backend: string;
  readonly rank: number;
  readonly initSeconds: number;
  readonly plans: RankPlanResult[];
}

async function maxOverRanks(
  ctx: RankContext,
  v: number,
  label: string,
): Promise<number> {
  if (ctx.world.size === 1) return v;
  const all = await ctx.world.startAllGather(Float32Array.of(v), label).wait();
  return Math.max(...all);
}

async function benchPlan(
  ctx: RankContext,
  plan: Plan,
  job: MethodsJob,
  i: number,
): Promise<RankPlanResult> {
  const predicted = expectedBytes(plan, ctx.sp.rank, ctx.dp.rank);
  const errors0 = webgpuErrorCount();
  const model = createRankModel(
    plan,
    { sp: ctx.sp, dp: ctx.dp, world: ctx.world },
    seedWeights(plan),
  );
  try {
    const global = planDataSource(plan).next(0);
    const local = localBatch(plan, model.info, ctx.dp.rank, global);
    const opts = {
      checkFinite: false,
      recordTimeline: false,
      lossScale: lossScale(global),
    };
    const steps: RankStep[] = [];
    const warmupSeconds: number[] = [];
    let bytes: GroupBytes | null = null;
    let lossShare = NaN;
    let gradSq = NaN;
    let reps = job.reps;
    for (let k = 0; k < job.warmup + reps; k++) {
      await ctx.world.barrier(`m.${i}.${k}`);
      const r = await runTrainStep(model, local, opts);
      if (k === 0) {
        lossShare = r.lossShare;
        gradSq = 0;
        for (const g of r.grads.values()) for (const v of g) gradSq += v * v;
      }
      const slow =
        (await maxOverRanks(ctx, r.stepSeconds, `m.${i}.${k}.t`)) >
        job.slowStepSeconds;
      if (k < job.warmup) {
        warmupSeconds.push(r.stepSeconds);
        continue;
      }
      steps.push({
        stepSeconds: r.stepSeconds,
        computeSeconds: r.computeSeconds,
        commWaitSeconds: r.commWaitSeconds,
      });
      bytes = r.bytes;
      if (steps.length === 1 && slow) reps = 1;
    }
    return {
      steps,
      warmupSeconds,
      bytes,
      predicted,
      lossShare,
      gradSq,
      gpuErrors: webgpuErrorCount() - errors0,
    };
  } finally {
    for (const name of model.env.names()) model.env.get(name).dispose();
  }
}

export async function rankMain(
  ctx: RankContext,
  job: MethodsJob,
): Promise<MethodsRankResult> {
  const t0 = performance.now();
  setRankOnNode(ctx.rank);
  const backend = await initBackend(job.backend);
  const initSeconds = (performance.now() - t0) / 1000;
  const out: RankPlanResult[] = [];
  for (const [i, plan] of job.plans.entries()) {
    assertPlan(plan);
    const late =
      (await maxOverRanks(
        ctx,
        Date.now() > job.deadlineMs ? 1 : 0,
        `m.${i}.late`,
      )) > 0;
    if (late) {
      const predicted = expectedBytes(plan, ctx.sp.rank, ctx.dp.rank);
      out.push({
        steps: null,
        warmupSeconds: [],
        bytes: null,
        predicted,
        lossShare: NaN,
        gradSq: NaN,
        gpuErrors: 0,
      });
      continue;
    }
    const r = await benchPlan(ctx, plan, job, i);
    out.push(r);
    // the whole result goes out as soon as it exists: the launcher prints the row at once, so a process
    // that dies at teardown (it did on the H100, see RESULTS.md) or a time limit still leaves the rows
    const progress: MethodsProgress = {
      done: i,
      of: job.plans.length,
      tensors: tf.memory().numTensors,
      result: r,
    };
    ctx.post(progress);
  }
  // a live Dawn device in a worker that launchRanks terminates is how the first H100 run ended in a
  // segfault (after every plan had run): destroy this thread's device before returning
  if (backend === "webgpu") await stopWebGPU();
  return { backend, rank: ctx.rank, initSeconds, plans: out };
}
