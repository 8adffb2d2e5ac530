// The training loop every rank runs: data slice, plan step (forward, backward, gradient all-reduce),
// clipping and AdamW on identical summed gradients (weights stay bitwise equal on every rank), metrics,
// progress and checkpoints from rank 0, a per-rank timeline of one chosen step.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Plan } from "../../compiler/plan/schema.ts";
import { initBackend, type BackendName } from "../backend/index.ts";
import type { RankContext } from "../comm/context.ts";
import { hashSpec, loadCheckpoint, latestCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { MetricsWriter, type StepMetrics } from "../train/metrics.ts";
import { adamwStep, clipGradNorm, createAdamWState, decayMatricesOnly, globalGradNorm } from "../train/optimizer.ts";
import { lrAt } from "../train/schedule.ts";
import { localBatch, lossScale, planDataSource } from "./batch.ts";
import type { DataSource } from "../train/data/types.ts";
import { createRankModel, runOptimizerStep, runTrainStep, setWeights, totalBytes, type RankModel } from "./rank-model.ts";
import { seedWeights } from "./seed.ts";

export interface TrainArgs {
  readonly job: "train";
  readonly plan: Plan;
  readonly backend: BackendName;
  /** total steps of the run (with a resume: the step to stop at) */
  readonly steps: number;
  /** one JSON line per step (rank 0 writes); null = none */
  readonly metricsFile: string | null;
  /** timeline.json of the timeline step goes here; null = none */
  readonly outDir: string | null;
  /** checkpoints (step-NNNNNNNN/ dirs) go here; null = none */
  readonly saveDir: string | null;
  /** checkpoint every k steps (0 = only at the end) */
  readonly saveEvery: number;
  /** a checkpoint dir, or a run dir / checkpoints root whose latest checkpoint is used */
  readonly resume: string | null;
  /** "post": progress to the launcher (ctx.post); "print": rank 0 prints it; "none" */
  readonly progress: "post" | "print" | "none";
  /** record the per-rank timeline of this step (null: none) */
  readonly timelineStep: number | null;
  readonly checkFinite: boolean;
}

export interface EvalPoint {
  /** optimizer steps done when it was measured */
  readonly step: number;
  readonly loss: number;
  readonly accuracy: number | null;
}

export interface TrainRankResult {
  readonly rank: number;
  readonly startStep: number;
  readonly losses: number[];
  readonly accuracies: (number | null)[];
  /** held-out evaluations (train.eval), in order */
  readonly evals: EvalPoint[];
  readonly last: StepMetrics | null;
  readonly backend: string;
}

/**
 * Checkpoints must match the model and the data, not the parallel layout, the step count or how often the
 * run evaluates; only text's held-out part (train.eval holdout) changes the training data.
 */
export function trainSpecHash(plan: Plan): string {
  const t = plan.spec.train;
  const heldOut = t.eval !== null && t.data.kind === "text" ? { heldOut: t.eval.holdout } : {};
  return hashSpec({ ...plan.spec, train: { ...t, ...heldOut } }, ["loc", "steps", "accum", "recompute", "parallel", "eval"]);
}

export function resolveResume(where: string): string {
  const roots = [where, path.join(where, "checkpoints")];
  for (const r of roots) if (fs.existsSync(path.join(r, "manifest.json"))) return r;
  for (const r of roots) {
    if (!fs.existsSync(r)) continue;
    const latest = latestCheckpoint(r);
    if (latest !== undefined) return latest;
  }
  throw new Error(`--resume ${where}: no checkpoint found there (expected a checkpoint dir or a run dir with checkpoints/)`);
}

/** Correct argmax predictions and scored targets among this rank's tokens. */
function accuracyCounts(logits: { data: Float32Array; shape: number[] }, targets: Int32Array): [number, number] {
  const [rows, V] = logits.shape as [number, number];
  let correct = 0;
  let scored = 0;
  for (let i = 0; i < rows; i++) {
    const t = targets[i]!;
    if (t < 0) continue;
    scored++;
    let best = 0;
    for (let j = 1; j < V; j++) if (logits.data[i * V + j]! > logits.data[i * V + best]!) best = j;
    if (best === t) correct++;
  }
  return [correct, scored];
}

/**
 * The held-out loss (train.eval): the forward alone over the same `batches` held-out global batches every
 * time, each as train.accum micro-batches like a training step, summed over every rank (SP and DP) by one
 * all-reduce; the mean over the batches. MQAR also gets its accuracy.
 */
async function evaluate(ctx: RankContext, model: RankModel, source: DataSource, checkFinite: boolean, step: number): Promise<EvalPoint> {
  const { plan } = model;
  const t = plan.spec.train;
  const e = t.eval!;
  const wantAccuracy = t.data.kind === "mqar";
  let share = 0;
  let correct = 0;
  let scored = 0;
  for (let i = 0; i < e.batches; i++) {
    const global = source.next(i);
    const scale = lossScale(global);
    for (let micro = 0; micro < t.accum; micro++) {
      const local = localBatch(plan, model.info, ctx.dp.rank, global, micro);
      const r = await runTrainStep(model, local, { checkFinite, recordTimeline: false, lossScale: scale, capture: wantAccuracy ? ["logits"] : [], forwardOnly: true });
      share += r.lossShare;
      if (wantAccuracy) {
        const [c, n] = accuracyCounts(r.captured.get("logits")!, local.targets);
        correct += c;
        scored += n;
      }
    }
  }
  const red = await ctx.world.startAllReduce(Float32Array.of(share, correct, scored), `eval@${step}`).wait();
  return { step, loss: red[0]! / e.batches, accuracy: wantAccuracy && red[2]! > 0 ? red[1]! / red[2]! : null };
}

export async function runTrainLoop(ctx: RankContext, a: TrainArgs): Promise<TrainRankResult> {
  const backend = await initBackend(a.backend);
  const { plan } = a;
  const t = plan.spec.train;
  const specHash = trainSpecHash(plan);
  let weights = seedWeights(plan);
  const shapes = new Map(plan.params.map((p) => [p.name, [...p.shape]]));
  let opt = createAdamWState(weights);
  let start = 0;
  if (a.resume !== null) {
    const ck = loadCheckpoint(resolveResume(a.resume), specHash);
    weights = ck.state.weights;
    opt = { step: ck.state.optimizer.step, m: ck.state.optimizer.m, v: ck.state.optimizer.v };
    start = ck.state.step;
  }
  const model = createRankModel(plan, { sp: ctx.sp, dp: ctx.dp, world: ctx.world }, weights);
  const source = planDataSource(plan);
  const evalSource = t.eval === null ? null : planDataSource(plan, t.seed, "eval");
  const evals: EvalPoint[] = [];
  const lead = ctx.rank === 0;
  const metrics = lead && a.metricsFile !== null ? MetricsWriter.open(a.metricsFile, a.resume !== null ? { resumeFromStep: start } : {}) : null;
  const decay = decayMatricesOnly(shapes);
  const wantAccuracy = t.data.kind === "mqar";
  const tokensPerStep = t.batch * t.seq;
  const losses: number[] = [];
  const accuracies: (number | null)[] = [];
  let last: StepMetrics | null = null;
  try {
    for (let step = start; step < a.steps; step++) {
      const global = source.next(step);
      const timeline = a.timelineStep === step;
      let [correct, scored] = [0, 0];
      // train.accum micro-batches, one gradient all-reduce (runOptimizerStep)
      const r = await runOptimizerStep(
        model,
        global,
        ctx.dp.rank,
        { checkFinite: a.checkFinite, recordTimeline: timeline, lossScale: lossScale(global), capture: wantAccuracy ? ["logits"] : [] },
        (_micro, local, mr) => {
          if (!wantAccuracy) return;
          const [c, n] = accuracyCounts(mr.captured.get("logits")!, local.targets);
          correct += c;
          scored += n;
        },
      );
      const red = await ctx.world.startAllReduce(Float32Array.of(r.lossShare, correct, scored), `loss@${step}`).wait();
      const loss = red[0]!;
      const accuracy = wantAccuracy && red[2]! > 0 ? red[1]! / red[2]! : null;
      const opts = t.optimizer;
      const gradNorm = opts.clip > 0 ? clipGradNorm(r.grads, opts.clip) : globalGradNorm(r.grads);
      const lr = lrAt(step, opts, a.steps);
      adamwStep(weights, r.grads, opt, lr, opts, decay);
      setWeights(model, weights);
      const bytes = totalBytes(r.bytes);
      const commBytes = Object.values(bytes).reduce((s, b) => s + b, 0);
      last = {
        step,
        loss,
        ...(accuracy !== null ? { accuracy } : {}),
        lr,
        gradNorm,
        tokensPerSec: tokensPerStep / r.stepSeconds,
        commBytesPerRank: commBytes,
        stepSeconds: r.stepSeconds,
        computeSeconds: r.computeSeconds,
        commWaitSeconds: r.commWaitSeconds,
      };
      const done = step + 1;
      let ev: EvalPoint | null = null;
      if (evalSource !== null && (done % t.eval!.every === 0 || done === a.steps)) {
        ev = await evaluate(ctx, model, evalSource, a.checkFinite, done);
        evals.push(ev);
        last = { ...last, evalLoss: ev.loss, ...(ev.accuracy !== null ? { evalAccuracy: ev.accuracy } : {}) };
      }
      losses.push(loss);
      accuracies.push(accuracy);
      metrics?.write(last);
      if (lead && a.progress !== "none") {
        const u = {
          done: step + 1,
          loss,
          tokensPerSec: last.tokensPerSec,
          commBytesPerStep: commBytes,
          ...(accuracy !== null ? { accuracy } : {}),
          ...(ev !== null ? { evalLoss: ev.loss, ...(ev.accuracy !== null ? { evalAccuracy: ev.accuracy } : {}) } : {}),
        };
        if (a.progress === "post") ctx.post({ type: "progress", ...u });
        else process.stdout.write(`step ${step + 1}/${a.steps} loss ${loss.toFixed(4)}${ev !== null ? ` held-out ${ev.loss.toFixed(4)}` : ""}\n`);
      }
      if (timeline && a.outDir !== null) {
        fs.writeFileSync(path.join(a.outDir, `timeline.rank${ctx.rank}.json`), JSON.stringify(r.timeline));
        await ctx.world.barrier(`timeline@${step}`);
        if (lead) mergeTimelines(a.outDir, ctx.world.size);
      }
      if (lead && a.saveDir !== null && ((a.saveEvery > 0 && done % a.saveEvery === 0) || done === a.steps)) {
        saveCheckpoint(a.saveDir, specHash, {
          step: done,
          seed: t.seed,
          dataPosition: done,
          weights,
          shapes,
          optimizer: opt,
          meta: { sp: plan.mesh.sp, dp: plan.mesh.dp, spec: plan.spec.model.name },
        });
      }
    }
  } finally {
    metrics?.close();
  }
  return { rank: ctx.rank, startStep: start, losses, accuracies, evals, last, backend };
}

function mergeTimelines(dir: string, ranks: number): void {
  const all = [];
  for (let r = 0; r < ranks; r++) {
    const f = path.join(dir, `timeline.rank${r}.json`);
    all.push(JSON.parse(fs.readFileSync(f, "utf8")));
    fs.rmSync(f);
  }
  fs.writeFileSync(path.join(dir, "timeline.json"), JSON.stringify({ ranks: all }));
}

export interface EvalArgs {
  readonly job: "eval";
  /** the plan to evaluate with: its train.eval says which held-out batches */
  readonly plan: Plan;
  readonly backend: BackendName;
  /** a checkpoint dir, or a run dir / checkpoints root whose latest checkpoint is used; null: the seed's initial weights */
  readonly resume: string | null;
  /** the spec hash the checkpoint must carry (the spec as trained, before the evaluation settings were added) */
  readonly specHash: string;
  readonly checkFinite: boolean;
}

export interface EvalRankResult extends EvalPoint {
  readonly backend: string;
  /** the checkpoint directory read (null: initial weights) */
  readonly checkpoint: string | null;
  /** what the held-out batches are (the data source's description) */
  readonly data: string;
}

/** `lasp eval`: one held-out evaluation of a checkpoint's weights on every rank (evaluate, above). */
export async function runEvalJob(ctx: RankContext, a: EvalArgs): Promise<EvalRankResult> {
  const backend = await initBackend(a.backend);
  const { plan } = a;
  let weights = seedWeights(plan);
  let step = 0;
  let checkpoint: string | null = null;
  if (a.resume !== null) {
    checkpoint = resolveResume(a.resume);
    const ck = loadCheckpoint(checkpoint, a.specHash);
    weights = ck.state.weights;
    step = ck.state.step;
  }
  const model = createRankModel(plan, { sp: ctx.sp, dp: ctx.dp, world: ctx.world }, weights);
  const source = planDataSource(plan, plan.spec.train.seed, "eval");
  const ev = await evaluate(ctx, model, source, a.checkFinite, step);
  return { ...ev, backend, checkpoint, data: source.describe() };
}
