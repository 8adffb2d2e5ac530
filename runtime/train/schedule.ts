// Learning-rate schedule: linear warm-up, then cosine decay to minLrRatio * lr (or constant).
// Steps are 0-based: lrAt(s) is the rate of the update that turns step s's weights into step s+1's.
import type { OptimizerSpec } from "../../dsl/spec.ts";

export type ScheduleSpec = Pick<OptimizerSpec, "lr" | "warmup" | "schedule" | "minLrRatio">;

/**
 * Warm-up: lr * (step + 1) / warmup for step < warmup (the first update is not wasted at lr 0).
 * Cosine: from lr at step = warmup down to minLrRatio * lr at step = totalSteps (reached only after
 * the last update); steps past totalSteps stay at the floor.
 */
export function lrAt(step: number, spec: ScheduleSpec, totalSteps: number): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`lrAt: step must be a non-negative integer, got ${step}`);
  const { lr, warmup, minLrRatio } = spec;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  if (spec.schedule === "constant") return lr;
  const span = totalSteps - warmup;
  if (span <= 0) return lr;
  const progress = Math.min(1, (step - warmup) / span);
  const floor = lr * minLrRatio;
  return floor + (lr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
