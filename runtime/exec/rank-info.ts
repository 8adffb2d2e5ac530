// What one rank knows about the token partition: its segments and global positions, every SP rank's
// token count, and the global chunk id of each gathered state. Derived from partition.ts, never stored
// in the plan (the plan is one program for every rank).
import { rankSegments, type Segment } from "../../compiler/plan/partition.ts";
import type { Plan } from "../../compiler/plan/schema.ts";

export interface RankInfo {
  /** index in the SP group (0 .. W-1) */
  readonly spIndex: number;
  /** SP group size */
  readonly W: number;
  /** sequences per step on this rank (train.batch) */
  readonly B: number;
  /** tokens per sequence (train.seq) */
  readonly N: number;
  /** segments of every SP rank, rank order */
  readonly allSegs: readonly (readonly Segment[])[];
  /** this rank's segments */
  readonly segs: readonly Segment[];
  readonly segLens: readonly number[];
  /** tokens this rank holds per sequence */
  readonly C: number;
  /** tokens each SP rank holds per sequence, rank order */
  readonly rankTokens: readonly number[];
}

export function rankInfo(plan: Plan, spIndex: number): RankInfo {
  const { seq: N, batch: B } = plan.spec.train;
  const W = plan.mesh.sp;
  const layout = plan.spec.parallel.layout;
  const allSegs = Array.from({ length: W }, (_, r) => rankSegments(N, W, layout, r));
  const segs = allSegs[spIndex]!;
  const rankTokens = allSegs.map((ss) => ss.reduce((s, g) => s + g.length, 0));
  return {
    spIndex,
    W,
    B,
    N,
    allSegs,
    segs,
    segLens: segs.map((s) => s.length),
    C: rankTokens[spIndex]!,
    rankTokens,
  };
}

function positionsOf(segs: readonly Segment[]): Int32Array {
  const out = new Int32Array(segs.reduce((s, g) => s + g.length, 0));
  let i = 0;
  for (const g of segs) for (let p = 0; p < g.length; p++) out[i++] = g.start + p;
  return out;
}

/** Global positions of this rank's tokens, local order. */
export function localPositions(info: RankInfo): Int32Array {
  return positionsOf(info.segs);
}

/** Global positions of SP rank r's tokens. */
export function positionsOfRank(info: RankInfo, r: number): Int32Array {
  return positionsOf(info.allSegs[r]!);
}

/** Global positions of every rank's tokens concatenated in rank order (an all_gather along tokens). */
export function gatheredPositions(info: RankInfo): Int32Array {
  return positionsOf(info.allSegs.flat());
}

/** SP rank that sent the block received at ring hop `hop` (data travels to the next rank). */
export function ringOrigin(info: RankInfo, hop: number): number {
  return (((info.spIndex - hop) % info.W) + info.W) % info.W;
}

/** For gathered per-segment states in rank order: each entry's global chunk id and length. */
export function gatheredChunks(info: RankInfo): { ids: number[]; lens: number[] } {
  const flat = info.allSegs.flat();
  return { ids: flat.map((s) => s.chunk), lens: flat.map((s) => s.length) };
}
