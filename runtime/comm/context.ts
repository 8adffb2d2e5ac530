// What an SPMD rank's entry function receives, whatever the transport (worker threads or MPI):
// its world rank, one communicator per group of the sp x dp mesh, and a channel to the launcher.
import type { Communicator } from "./communicator.ts";

/**
 * One rank's handle on the job. Mesh: world = sp * dp ranks, world rank = dpIndex * sp + spIndex;
 * SP groups are consecutive world ranks. `sp.rank` is the SP index, `dp.rank` the DP index.
 */
export interface RankContext {
  readonly rank: number;
  readonly world: Communicator;
  readonly sp: Communicator;
  readonly dp: Communicator;
  /** Progress or metrics for the launcher's `onMessage` (structured-cloneable; fire and forget). */
  post(msg: unknown): void;
}

/** The shape of the `rankMain` export of a rank entry module. */
export type RankMain<R = unknown, A = unknown> = (ctx: RankContext, args: A) => Promise<R>;

/** World rank of (spIndex, dpIndex) in an sp x dp mesh. */
export function worldRankOf(spIndex: number, dpIndex: number, sp: number): number {
  return dpIndex * sp + spIndex;
}

/** World ranks of the SP group and of the DP group that hold world rank `rank`. */
export function meshGroups(rank: number, sp: number, dp: number): { sp: number[]; dp: number[] } {
  const spIndex = rank % sp;
  const dpIndex = Math.floor(rank / sp);
  return {
    sp: Array.from({ length: sp }, (_, s) => worldRankOf(s, dpIndex, sp)),
    dp: Array.from({ length: dp }, (_, d) => worldRankOf(spIndex, d, sp)),
  };
}
