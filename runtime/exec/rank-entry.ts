// The SPMD entry every rank runs (a worker thread, or an MPI process): builds the rank's model from the
// plan and runs the job the launcher asked for. Jobs: "step" (one training step from the seed's weights,
// used by `lasp verify` and tests), "train" and "eval" (runtime/exec/train-loop.ts) and "op" (one attention layer,
// runtime/exec/op-job.ts).
import type { Plan } from "../../compiler/plan/schema.ts";
import { initBackend, releaseBackend, type BackendName } from "../backend/index.ts";
import { getRankOnNode, setRankOnNode } from "../backend/vk-device-tag.ts";
import type { RankContext } from "../comm/context.ts";
import { assertPlan } from "../../compiler/plan/validate.ts";
import { seedWeights } from "./seed.ts";
import { planDataSource, lossScale } from "./batch.ts";
import { createRankModel, runOptimizerStep, type StepResult } from "./rank-model.ts";
import { runEvalJob, runTrainLoop, type EvalArgs, type EvalRankResult, type TrainArgs, type TrainRankResult } from "./train-loop.ts";
import { opJob, type OpJobArgs, type OpJobResult } from "./op-job.ts";
import { assertSamePlan, loadCompiledProgram } from "./compiled.ts";

export interface StepJobArgs {
  readonly job: "step";
  readonly plan: Plan;
  readonly backend: BackendName;
  /** training step whose batch is used */
  readonly step: number;
  readonly capture?: readonly string[];
  /** weights to use instead of the seed's for these parameters */
  readonly weights?: readonly (readonly [string, Float32Array])[];
  readonly checkFinite?: boolean;
  readonly recordTimeline?: boolean;
  /** test hook: this rank throws (or exits) at the named step id */
  readonly failAt?: { readonly rank: number; readonly stepId: string; readonly how: "throw" | "exit" };
  /** path (or file URL) of a module from `lasp compile --emit ts` for this plan: run it instead of the interpreter */
  readonly compiledModule?: string;
}

export type JobArgs = StepJobArgs | TrainArgs | EvalArgs | OpJobArgs;
export type StepJobResult = Omit<StepResult, "captured"> & { captured: [string, { data: Float32Array; shape: number[] }][]; backend: string };

async function stepJob(ctx: RankContext, a: StepJobArgs): Promise<StepJobResult> {
  const backend = await initBackend(a.backend);
  const weights = seedWeights(a.plan);
  for (const [name, w] of a.weights ?? []) weights.set(name, w);
  const model = createRankModel(a.plan, { sp: ctx.sp, dp: ctx.dp, world: ctx.world }, weights);
  const global = planDataSource(a.plan).next(a.step);
  const program = a.compiledModule === undefined ? undefined : await loadCompiledProgram(a.compiledModule);
  if (program !== undefined) assertSamePlan(program, a.plan);
  // one optimizer step: train.accum micro-batches, one gradient all-reduce
  const r = await runOptimizerStep(model, global, ctx.dp.rank, {
    checkFinite: a.checkFinite ?? true,
    recordTimeline: a.recordTimeline ?? false,
    lossScale: lossScale(global),
    fault: a.failAt !== undefined && a.failAt.rank === ctx.rank ? a.failAt : undefined,
    ...(a.capture !== undefined ? { capture: a.capture } : {}),
    ...(program !== undefined ? { program } : {}),
  });
  return { ...r, captured: [...r.captured.entries()], backend };
}

export async function rankMain(ctx: RankContext, args: JobArgs): Promise<StepJobResult | TrainRankResult | EvalRankResult | OpJobResult> {
  assertPlan(args.plan);
  // which of the node's GPUs this rank opens (webgpu): worker threads are all on one node; an MPI
  // process was told its rank on the node by mpiRankContext
  if (getRankOnNode() === null) setRankOnNode(ctx.rank);
  try {
    switch (args.job) {
      case "step":
        return await stepJob(ctx, args);
      case "train":
        return await runTrainLoop(ctx, args);
      case "eval":
        return await runEvalJob(ctx, args);
      case "op":
        return await opJob(ctx, args);
      default:
        return args satisfies never;
    }
  } finally {
    // results are plain arrays by now: the GPU device goes before the worker ends, not at its teardown
    await releaseBackend();
  }
}
