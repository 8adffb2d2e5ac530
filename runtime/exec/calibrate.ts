// Times one rank's training step op by op, alone: the rank's communicators are NullCommunicators (collectives
// return at once, zeros for the peers' parts), so what is measured is this rank's compute for the plan's
// shapes, with no waits and no other rank on the cores. The local hardware profile uses it to calibrate the
// simulator's per-op costs (compiler/cost/hardware/local.ts); bench/ may use it to see where a step goes.
import type { Plan } from "../../compiler/plan/schema.ts";
import { NullCommunicator } from "../comm/null.ts";
import { localBatch, lossScale, planDataSource } from "./batch.ts";
import { createRankModel, runTrainStep } from "./rank-model.ts";
import { seedWeights } from "./seed.ts";

export interface RankOpTimes {
  /** op -> seconds per step, summed over the op's steps (median over reps) */
  readonly perOp: Map<string, number>;
  /** median step seconds */
  readonly stepSeconds: number;
  /** median seconds per step in comm_start / comm_wait steps (handler work only: nothing is waited for) */
  readonly commSeconds: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs SP rank `spRank` (DP replica 0) of `plan` alone: one warm-up step, then `reps` timed ones. The backend must be initialised. */
export async function timeRankOps(plan: Plan, spRank: number, reps: number): Promise<RankOpTimes> {
  const { sp, dp } = plan.mesh;
  const comms = { sp: new NullCommunicator("sp", sp, spRank), dp: new NullCommunicator("dp", dp, 0), world: new NullCommunicator("world", sp * dp, spRank) };
  const model = createRankModel(plan, comms, seedWeights(plan));
  try {
    const global = planDataSource(plan).next(0);
    const local = localBatch(plan, model.info, 0, global);
    const opts = { checkFinite: false, recordTimeline: true, lossScale: lossScale(global) };
    await runTrainStep(model, local, opts);
    const per: Map<string, number>[] = [];
    const steps: number[] = [];
    const comm: number[] = [];
    for (let k = 0; k < reps; k++) {
      const r = await runTrainStep(model, local, opts);
      steps.push(r.stepSeconds);
      const m = new Map<string, number>();
      let c = 0;
      for (const e of r.timeline ?? []) {
        if (e.kind !== "compute") {
          c += e.t1 - e.t0;
          continue;
        }
        const op = e.label.split(" ")[0]!;
        m.set(op, (m.get(op) ?? 0) + e.t1 - e.t0);
      }
      per.push(m);
      comm.push(c);
    }
    const ops = new Set(per.flatMap((m) => [...m.keys()]));
    return { perOp: new Map([...ops].map((op) => [op, median(per.map((m) => m.get(op) ?? 0))])), stepSeconds: median(steps), commSeconds: median(comm) };
  } finally {
    for (const name of model.env.names()) model.env.get(name).dispose();
  }
}
