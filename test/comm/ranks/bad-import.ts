// Rank module whose import fails on rank 1 (a top-level throw): the job must fail naming that rank,
// without the other ranks hanging at the start line.
import { workerData } from "node:worker_threads";
import type { RankContext } from "../../../runtime/comm/context.ts";

// WorkerInit.rank (launchRanks' workerData): known before rankMain runs
if ((workerData as { rank: number }).rank === 1) throw new Error("cannot load this module on rank 1");

export async function rankMain(ctx: RankContext): Promise<number> {
  return ctx.rank;
}
