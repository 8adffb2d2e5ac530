// Memory one device holds at the peak of a training step: weights, gradients and AdamW state (16 bytes a
// weight in fp32 and in bf16 mixed precision), the plan's activations (forward buffers the backward reads)
// and the receive buffers of the collectives in flight at once.
import type { Plan, Step } from "../plan/schema.ts";
import type { HardwareProfile, SimDtype } from "./hardware/profile.ts";
import { DTYPE_BYTES } from "./simulate-compute.ts";
import { partsElems, type SizingCtx } from "./bytes.ts";

export interface MemoryBreakdown {
  readonly weights: number;
  readonly grads: number;
  /** AdamW m and v (fp32), plus the fp32 master weights under bf16 */
  readonly optimizer: number;
  readonly activations: number;
  /** peak bytes of collective results in flight: SP collectives' receives, gradient buckets' results */
  readonly commBuffers: number;
  readonly total: number;
}

/**
 * Peak over the step list of the bytes of collective results in flight (started, not yet waited): what a
 * collective receives, or for an all-reduce (the gradient buckets) its whole result.
 */
function inFlightPeak(steps: readonly Step[], ctx: SizingCtx): number {
  const live = new Map<string, number>();
  let cur = 0;
  let peak = 0;
  for (const s of steps) {
    if (s.op === "comm_start") {
      const bytes = s.collective === "all_reduce" ? 4 * partsElems(s.parts, s, ctx, 0) : s.bytesPerRank;
      live.set(s.handle, bytes);
      cur += bytes;
      peak = Math.max(peak, cur);
    } else if (s.op === "comm_wait") {
      cur -= live.get(s.handle) ?? 0;
      live.delete(s.handle);
    }
  }
  return peak;
}

/** The memory of one device running `plan` in `dtype`. */
export function memoryOf(plan: Plan, dtype: SimDtype): MemoryBreakdown {
  const n = plan.estimates.totals.paramCount;
  const b = DTYPE_BYTES[dtype];
  const weights = n * b;
  // with gradient accumulation (train.accum) the running sums of the local gradients, in float32, beside them
  const grads = n * b + (plan.spec.train.accum > 1 ? n * 4 : 0);
  const optimizer = n * (dtype === "fp32" ? 8 : 12);
  const activations = (plan.estimates.totals.activationBytes * b) / 4;
  // gradient buckets in flight (started inside the backward with overlap on) count beside the SP collectives
  const commBuffers = (inFlightPeak([...plan.forward, ...plan.backward, ...plan.gradSync], { mesh: plan.mesh, rankTokens: plan.estimates.rankTokens }) * b) / 4;
  return {
    weights,
    grads,
    optimizer,
    activations,
    commBuffers,
    total: weights + grads + optimizer + activations + commBuffers,
  };
}

/** Bytes one device may use: the profile's memory, or its share of the machine's for the local profile. */
export function deviceMemory(hw: HardwareProfile, world: number): number {
  return hw.sharedMemoryBytes === undefined ? hw.memoryBytes : Math.min(hw.memoryBytes, hw.sharedMemoryBytes / world);
}
