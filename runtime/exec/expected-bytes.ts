// What the plan predicts one rank receives, per group and collective kind, for one training step: the
// sum of compiler/cost/bytes.ts over the plan's comm_start steps, those of the attention once per
// micro-batch (train.accum), the gradient all-reduces once. The runtime compares it with the
// transport's counters (`lasp verify`, tests, benchmarks).
import { bytesReceived } from "../../compiler/cost/bytes.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { zeroByteCounts, type ByteCounts } from "../comm/communicator.ts";

export type GroupBytes = { sp: ByteCounts; dp: ByteCounts; world: ByteCounts };

/** Predicted bytes for the rank at (spIndex, dpIndex) of the mesh. */
export function expectedBytes(plan: Plan, spIndex: number, dpIndex: number): GroupBytes {
  const out: GroupBytes = { sp: zeroByteCounts(), dp: zeroByteCounts(), world: zeroByteCounts() };
  const ctx = { mesh: plan.mesh, rankTokens: plan.estimates.rankTokens };
  const worldRank = dpIndex * plan.mesh.sp + spIndex;
  for (const s of [...plan.forward, ...plan.backward, ...plan.gradSync]) {
    if (s.op !== "comm_start") continue;
    const idx = s.group === "sp" ? spIndex : s.group === "dp" ? dpIndex : worldRank;
    const times = s.phase === "grad_sync" ? 1 : plan.spec.train.accum;
    out[s.group][s.collective] += times * bytesReceived(s, ctx, idx);
  }
  return out;
}

/** Every (group, kind) where measured and predicted differ; [] when they agree. */
export function byteMismatches(measured: GroupBytes, predicted: GroupBytes): string[] {
  const bad: string[] = [];
  for (const g of ["sp", "dp", "world"] as const)
    for (const k of Object.keys(predicted[g]) as (keyof ByteCounts)[]) {
      if (k === "barrier") continue;
      if (measured[g][k] !== predicted[g][k]) bad.push(`${g}.${k}: measured ${measured[g][k]} B, plan predicts ${predicted[g][k]} B`);
    }
  return bad;
}
