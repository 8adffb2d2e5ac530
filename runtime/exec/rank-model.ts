// One rank's model: the plan, its partition view, communicators and weights as pinned tensors; runs
// one training step's forward, backward and gradient sync and hands back the loss and summed gradients.
import * as tf from "@tensorflow/tfjs-core";
import type { Plan } from "../../compiler/plan/schema.ts";
import { zeroByteCounts, type ByteCounts } from "../comm/communicator.ts";
import type { Batch } from "../train/data/types.ts";
import type { Comms, ExecCtx, TimelineEvent } from "./context.ts";
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
}

export interface StepResult {
  /** this rank's share of the loss (the sum over all ranks is the global mean loss) */
  readonly lossShare: number;
  /** gradients summed over every rank (the plan's gradSync), by parameter name */
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
  };
  resetBytes(m);
  const run: RunOptions = { checkFinite: opts.checkFinite, fault: opts.fault };
  const prog = opts.program;
  const phase = (key: "forward" | "backward" | "gradSync"): Promise<void> =>
    prog === undefined ? runSteps(plan[key], x, run) : runCompiled(prog[key], x, run);
  try {
    await phase("forward");
    const lossShare = ((await env.get(plan.loss).data()) as Float32Array)[0]!;
    await phase("backward");
    await phase("gradSync");
    if (x.pending.size > 0) throw new Error(`plan bug: collectives never waited: ${[...x.pending.keys()].join(", ")}`);
    const grads = new Map<string, Float32Array>();
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

/** Bytes received per kind, summed over the rank's three groups. */
export function totalBytes(b: StepResult["bytes"]): ByteCounts {
  const out = zeroByteCounts();
  for (const g of [b.sp, b.dp, b.world]) for (const k of Object.keys(out) as (keyof ByteCounts)[]) out[k] += g[k];
  return out;
}
