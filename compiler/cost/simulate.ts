// `simulate(spec, gpus, profile)`: compiles the spec with sp = gpus / dp for every method combination and
// predicts each one's step time, tokens/s and memory per device from the plan's own FLOP and byte counts
// (simulate-schedule.ts, simulate-memory.ts). docs/COST-MODEL.md lists every term and its source.
import type { Spec, LinearMethod, SoftmaxMethod } from "../../dsl/spec.ts";
import type { Plan } from "../plan/schema.ts";
import { compile } from "../index.ts";
import { formatDiagnostic } from "../../dsl/index.ts";
import { simulateSchedule, type PhaseTimes } from "./simulate-schedule.ts";
import { memoryOf, deviceMemory, type MemoryBreakdown } from "./simulate-memory.ts";
import { DTYPE_BYTES } from "./simulate-compute.ts";
import type { HardwareProfile, SimDtype } from "./hardware/profile.ts";

export const LINEAR_METHODS: readonly LinearMethod[] = ["lasp2", "lasp1", "ring"];
export const SOFTMAX_METHODS: readonly SoftmaxMethod[] = ["lasp2h", "ring", "ulysses"];

/** AdamW touches ~32 bytes a weight (read grad, master, m, v; write master, m, v, weight; the clip norm). */
const OPTIMIZER_BYTES_PER_PARAM = 32;

export interface SimOptions {
  /** sequence length N (default: the spec's train.seq) */
  readonly seq?: number;
  /** default fp32, the runtime's type */
  readonly dtype?: SimDtype;
  /** restrict the combinations (default: every method of each attention kind the model has) */
  readonly linear?: readonly LinearMethod[];
  readonly softmax?: readonly SoftmaxMethod[];
}

export interface PlanPrediction {
  readonly stepSeconds: number;
  readonly tokensPerSec: number;
  readonly memoryBytesPerDevice: number;
  readonly fits: boolean;
  /**
   * With train.accum > 1 the phases and commSeconds are those of the last micro-batch (the one that runs the
   * gradient all-reduce); computeSeconds and exposedCommSeconds cover every micro-batch of the step.
   */
  readonly time: PhaseTimes & {
    readonly optimizer: number;
    readonly computeSeconds: number;
    readonly commSeconds: number;
    readonly exposedCommSeconds: number;
  };
  readonly memory: MemoryBreakdown;
  /** the SP group or the gradient all-reduce crossed a node boundary */
  readonly interNode: boolean;
}

export interface MethodResult extends PlanPrediction {
  readonly linear: LinearMethod;
  readonly softmax: SoftmaxMethod;
  /** stepSeconds / stepSeconds of lasp2 + lasp2h (the baseline row) */
  readonly vsLasp2: number;
  /**
   * where the row does not fit and the spec has recompute off: the same row with train.recompute on (every
   * layer), and, where that fits, with the fewest layers recomputed that fit (train.recompute=N, the first N)
   */
  readonly withRecompute?: RecomputeRow & { readonly fewest?: RecomputeRow };
}

export interface RecomputeRow {
  /** layers recomputed (the first this many) */
  readonly layers: number;
  readonly stepSeconds: number;
  readonly memoryBytesPerDevice: number;
  readonly fits: boolean;
}

export interface SimResult {
  readonly model: string;
  readonly profile: string;
  readonly dtype: SimDtype;
  readonly gpus: number;
  readonly sp: number;
  readonly dp: number;
  readonly seq: number;
  readonly tokensPerStep: number;
  /** micro-batches per optimizer step (train.accum) */
  readonly accum: number;
  readonly deviceMemoryBytes: number;
  /** sorted by step time, fastest first */
  readonly results: MethodResult[];
  /** combinations the compiler refused (e.g. Ulysses with heads not divisible by sp) */
  readonly skipped: { linear: LinearMethod; softmax: SoftmaxMethod; reason: string }[];
}

/** The prediction for one compiled plan (what a benchmark compares with a measured step). */
export function predictPlan(plan: Plan, hw: HardwareProfile, dtype: SimDtype = "fp32"): PlanPrediction {
  const s = simulateSchedule(plan, hw, dtype);
  const share = hw.computeUnits === undefined ? 1 : Math.min(1, hw.computeUnits / plan.mesh.world);
  const optimizer = (plan.estimates.totals.paramCount * OPTIMIZER_BYTES_PER_PARAM) / hw.memoryBandwidth / share;
  // train.accum micro-batches: all but the last skip the gradient all-reduce; each of those is taken as
  // the simulated micro-batch's forward + backward (with overlap on, that backward also paid for starting
  // the gradient buckets: a small overestimate)
  const accum = plan.spec.train.accum;
  const held = (accum - 1) * s.phases.backward;
  const stepSeconds = held + s.phases.gradSync + optimizer;
  // a held micro-batch waits for what its forward + backward do not hide (no gradient all-reduce)
  const heldWait = (accum - 1) * Math.max(0, s.phases.backward - s.computeSeconds);
  const memory = memoryOf(plan, dtype);
  const tokens = plan.spec.train.batch * plan.spec.train.seq;
  return {
    stepSeconds,
    tokensPerSec: tokens / stepSeconds,
    memoryBytesPerDevice: memory.total,
    fits: memory.total <= deviceMemory(hw, plan.mesh.world),
    time: {
      ...s.phases,
      optimizer,
      computeSeconds: accum * s.computeSeconds,
      commSeconds: s.commSeconds,
      exposedCommSeconds: s.exposedCommSeconds + heldWait,
    },
    memory,
    interNode: s.interNode,
  };
}

/**
 * A row that does not fit, with recomputation: every layer, then, where that fits, the fewest layers (the
 * first N) that fit. N is first read off the two plans' per-layer activations (each recomputed layer saves
 * what it kept less what it still keeps), then compiled to confirm; one more layer while it does not fit.
 */
function recomputeLever(s: Spec, off: Plan, offPrediction: PlanPrediction, hw: HardwareProfile, dtype: SimDtype): MethodResult["withRecompute"] | null {
  const at = (recompute: boolean | number): { plan: Plan; row: RecomputeRow } | null => {
    const plan = compile({ ...s, train: { ...s.train, recompute } }).plan;
    if (plan === null) return null;
    const q = predictPlan(plan, hw, dtype);
    const layers = recompute === true ? s.model.layers.length : Number(recompute);
    return { plan, row: { layers, stepSeconds: q.stepSeconds, memoryBytesPerDevice: q.memoryBytesPerDevice, fits: q.fits } };
  };
  const all = at(true);
  if (all === null) return null;
  if (!all.row.fits) return all.row;
  const L = s.model.layers.length;
  const b = DTYPE_BYTES[dtype];
  const over = offPrediction.memoryBytesPerDevice - deviceMemory(hw, off.mesh.world);
  let n = 0;
  for (let saved = 0; n < L && saved < over; n++)
    saved += ((off.estimates.layers[n]!.activationBytes - all.plan.estimates.layers[n]!.activationBytes) * b) / 4;
  for (n = Math.max(1, n); n < L; n++) {
    const some = at(n);
    if (some === null) break;
    if (some.row.fits) return { ...all.row, fewest: some.row };
  }
  return all.row;
}

/** The spec with sp = gpus / dp, the methods and the sequence length replaced. */
export function specFor(spec: Spec, gpus: number, linear: LinearMethod, softmax: SoftmaxMethod, seq: number): Spec {
  const s = structuredClone(spec);
  return { ...s, parallel: { ...s.parallel, sp: gpus / s.parallel.dp, linear, softmax }, train: { ...s.train, seq } };
}

export function simulate(spec: Spec, gpus: number, hw: HardwareProfile, opts: SimOptions = {}): SimResult {
  const dp = spec.parallel.dp;
  if (!Number.isInteger(gpus) || gpus < 1 || gpus % dp !== 0)
    throw new RangeError(`gpus ${gpus} is not a positive multiple of the spec's dp ${dp}`);
  const seq = opts.seq ?? spec.train.seq;
  const dtype = opts.dtype ?? "fp32";
  const kinds = new Set(spec.model.layers.map((l) => l.kind));
  const linears = kinds.has("linear") ? (opts.linear ?? LINEAR_METHODS) : [spec.parallel.linear];
  const softmaxes = kinds.has("softmax") ? (opts.softmax ?? SOFTMAX_METHODS) : [spec.parallel.softmax];
  const rows: Omit<MethodResult, "vsLasp2">[] = [];
  const skipped: SimResult["skipped"] = [];
  for (const linear of linears) {
    for (const softmax of softmaxes) {
      const r = compile(specFor(spec, gpus, linear, softmax, seq));
      if (r.plan === null) {
        const errs = r.diagnostics.filter((d) => d.severity === "error").map((d) => formatDiagnostic(d, ""));
        skipped.push({ linear, softmax, reason: errs.join("; ") });
        continue;
      }
      const p = predictPlan(r.plan, hw, dtype);
      // the lever for a row that does not fit: activation recomputation (the recompute pass)
      let withRecompute: MethodResult["withRecompute"];
      if (!p.fits && !spec.train.recompute)
        withRecompute = recomputeLever(specFor(spec, gpus, linear, softmax, seq), r.plan, p, hw, dtype) ?? undefined;
      rows.push({ linear, softmax, ...p, ...(withRecompute !== undefined ? { withRecompute } : {}) });
    }
  }
  const base =
    rows.find((r) => r.linear === "lasp2" && r.softmax === "lasp2h") ??
    rows.find(
      (r) => (!kinds.has("linear") || r.linear === "lasp2") && (!kinds.has("softmax") || r.softmax === "lasp2h"),
    ) ??
    rows[0];
  const results = rows
    .map((r) => ({ ...r, vsLasp2: base === undefined ? 1 : r.stepSeconds / base.stepSeconds }))
    .sort((a, b) => a.stepSeconds - b.stepSeconds);
  return {
    model: spec.model.name,
    profile: hw.name,
    dtype,
    gpus,
    sp: gpus / dp,
    dp,
    seq,
    tokensPerStep: spec.train.batch * seq,
    accum: spec.train.accum,
    deviceMemoryBytes: deviceMemory(hw, gpus),
    results,
    skipped,
  };
}
