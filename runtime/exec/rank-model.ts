// One rank's model: the plan, its partition view, communicators and weights as pinned tensors; runs
// one training step's forward, backward and gradient sync and hands back the loss and summed gradients.
import * as tf from "@tensorflow/tfjs-core";
import type { Plan } from "../../compiler/plan/schema.ts";
import { addByteCounts, zeroByteCounts, type ByteCounts } from "../comm/communicator.ts";
import type { Batch } from "../train/data/types.ts";
import type { Comms, ExecCtx, GradAccum, TimelineEvent } from "./context.ts";
import { localBatch } from "./batch.ts";
import { Env } from "./env.ts";
import { runSteps, type RunOptions } from "./interpreter.ts";
import { rankInfo, type RankInfo } from "./rank-info.ts";
import { runCompiled, type CompiledProgram } from "./compiled.ts";

export interface RankModel {
  readonly plan: Plan;
  readonly info: RankInfo;
  readonly comms: Comms;
  readonly env: Env;
}

export interface StepOptions {
  readonly checkFinite: boolean;
  readonly recordTimeline: boolean;
  /** buffers to copy out (e.g. layer outputs) */
  readonly capture?: readonly string[];
  /** 1 / scored targets of the whole global batch (all DP replicas); null = the plan's static scale */
  readonly lossScale: number | null;
  readonly fault?: RunOptions["fault"];
  /** run this ahead-of-time compiled module of the same plan (`lasp compile --emit ts`) instead of the interpreter */
  readonly program?: CompiledProgram;
  /** one micro-batch of an accumulated step (runOptimizerStep); absent: a whole step */
  readonly gradAccum?: GradAccum | null;
  /** evaluation: the forward (and loss) only; no backward, no gradient sync, no gradients */
  readonly forwardOnly?: boolean;
}

export interface StepResult {
  /** this rank's share of the loss (the sum over all ranks is the global mean loss) */
  readonly lossShare: number;
  /** gradients summed over every rank (the plan's gradSync), by parameter name; empty for a held micro-batch */
  readonly grads: Map<string, Float32Array>;
  /** bytes this rank received during the plan's collectives, per group and kind */
  readonly bytes: { sp: ByteCounts; dp: ByteCounts; world: ByteCounts };
  readonly computeSeconds: number;
  readonly commWaitSeconds: number;
  readonly stepSeconds: number;
  readonly timeline: TimelineEvent[] | null;
  readonly captured: Map<string, { data: Float32Array; shape: number[] }>;
  /** accuracy numerators over this rank's scored tokens, when logits were captured */
  readonly logits?: { data: Float32Array; shape: number[] };
}

export function createRankModel(plan: Plan, comms: Comms, weights: ReadonlyMap<string, Float32Array>): RankModel {
  const info = rankInfo(plan, comms.sp.rank);
  const env = new Env(() => `rank ${comms.world.rank}`);
  const model = { plan, info, comms, env };
  setWeights(model, weights);
  return model;
}

export function setWeights(m: RankModel, weights: ReadonlyMap<string, Float32Array>): void {
  for (const p of m.plan.params) {
    const w = weights.get(p.name);
    if (w === undefined) throw new Error(`weights: parameter '${p.name}' is missing`);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (w.length !== n) throw new Error(`weights: parameter '${p.name}' has ${w.length} values, its shape [${p.shape.join(", ")}] needs ${n}`);
    m.env.replacePinned(p.name, tf.tensor(w, p.shape));
  }
}

function resetBytes(m: RankModel): void {
  m.comms.sp.resetByteCounts();
  m.comms.dp.resetByteCounts();
  m.comms.world.resetByteCounts();
}

/** One training step's compute on this rank: forward, backward, gradient sync. */
export async function runTrainStep(m: RankModel, local: Batch, opts: StepOptions): Promise<StepResult> {
  const { plan, env } = m;
  env.setInts(plan.inputs.tokens, local.tokens);
  env.setInts(plan.inputs.targets, local.targets);
  const t0 = performance.now();
  const x: ExecCtx = {
    env,
    info: m.info,
    comms: m.comms,
    pending: new Map(),
    stats: { computeSeconds: 0, commWaitSeconds: 0, events: opts.recordTimeline ? [] : null, t0 },
    lossScale: opts.lossScale,
    current: "",
    capture: new Set(opts.capture ?? []),
    captured: new Map(),
    gradAccum: opts.gradAccum ?? null,
  };
  resetBytes(m);
  const run: RunOptions = { checkFinite: opts.checkFinite, fault: opts.fault };
  const prog = opts.program;
  const phase = (key: "forward" | "backward" | "gradSync"): Promise<void> =>
    prog === undefined ? runSteps(plan[key], x, run) : runCompiled(prog[key], x, run);
  try {
    await phase("forward");
    const lossShare = ((await env.get(plan.loss).data()) as Float32Array)[0]!;
    if (opts.forwardOnly === true) {
      // a collective the forward started for the backward (none in today's plans) still completes on every rank
      for (const [h, p] of [...x.pending]) {
        x.pending.delete(h);
        for (const t of p.unpack(await p.handle.wait())) t.dispose();
      }
    } else {
      await phase("backward");
      await phase("gradSync");
    }
    if (x.pending.size > 0) throw new Error(`plan bug: collectives never waited: ${[...x.pending.keys()].join(", ")}`);
    const grads = new Map<string, Float32Array>();
    if (opts.gradAccum?.mode !== "hold" && opts.forwardOnly !== true)
      for (const p of plan.params) grads.set(p.name, ((await env.get(p.grad).data()) as Float32Array).slice());
    const bytes = { sp: m.comms.sp.bytesReceived(), dp: m.comms.dp.bytesReceived(), world: m.comms.world.bytesReceived() };
    return {
      lossShare,
      grads,
      bytes,
      computeSeconds: x.stats.computeSeconds,
      commWaitSeconds: x.stats.commWaitSeconds,
      stepSeconds: (performance.now() - t0) / 1000,
      timeline: x.stats.events,
      captured: x.captured,
    };
  } finally {
    env.clearActivations();
  }
}

/**
 * One optimizer step of train.accum micro-batches: each runs forward and backward on its rows of `global`
 * (localBatch), and only the last runs the gradient all-reduce, its buckets carrying the sum of every
 * micro-batch's local gradients (GradAccum). With accum 1 it is runTrainStep. Loss shares (each scaled by the
 * whole step's `opts.lossScale`), bytes and seconds add up; a recorded timeline has the micro-batches back to
 * back; captures are the last micro-batch's. `onMicro` sees each micro-batch's rows and result (accuracy).
 */
export async function runOptimizerStep(
  m: RankModel,
  global: Batch,
  dpIndex: number,
  opts: StepOptions,
  onMicro?: (micro: number, local: Batch, r: StepResult) => void,
): Promise<StepResult> {
  const { accum } = m.plan.spec.train;
  if (accum === 1) {
    const local = localBatch(m.plan, m.info, dpIndex, global, 0);
    const r = await runTrainStep(m, local, opts);
    onMicro?.(0, local, r);
    return r;
  }
  const sums = new Map<string, tf.Tensor>();
  const t0 = performance.now();
  const bytes = { sp: zeroByteCounts(), dp: zeroByteCounts(), world: zeroByteCounts() };
  const events: TimelineEvent[] | null = opts.recordTimeline ? [] : null;
  let lossShare = 0;
  let computeSeconds = 0;
  let commWaitSeconds = 0;
  let last: StepResult | null = null;
  try {
    for (let micro = 0; micro < accum; micro++) {
      const local = localBatch(m.plan, m.info, dpIndex, global, micro);
      const offset = (performance.now() - t0) / 1000;
      const gradAccum: GradAccum = { mode: micro < accum - 1 ? "hold" : "send", sums };
      const fault = micro === accum - 1 ? opts.fault : undefined;
      const r = await runTrainStep(m, local, { ...opts, gradAccum, fault });
      onMicro?.(micro, local, r);
      lossShare += r.lossShare;
      computeSeconds += r.computeSeconds;
      commWaitSeconds += r.commWaitSeconds;
      for (const g of ["sp", "dp", "world"] as const) addByteCounts(bytes[g], r.bytes[g]);
      if (events !== null && r.timeline !== null) for (const e of r.timeline) events.push({ ...e, t0: e.t0 + offset, t1: e.t1 + offset });
      last = r;
    }
  } finally {
    for (const t of sums.values()) t.dispose();
  }
  return {
    lossShare,
    grads: last!.grads,
    bytes,
    computeSeconds,
    commWaitSeconds,
    stepSeconds: (performance.now() - t0) / 1000,
    timeline: events,
    captured: last!.captured,
  };
}

/** Bytes received per kind, summed over the rank's three groups. */
export function totalBytes(b: StepResult["bytes"]): ByteCounts {
  const out = zeroByteCounts();
  for (const g of [b.sp, b.dp, b.world]) addByteCounts(out, g);
  return out;
}
