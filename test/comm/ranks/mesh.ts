// Rank module for the mesh test: collectives on the sp, dp and world groups, some in flight on
// two groups at once, reporting what each rank saw.
import type { RankContext } from "../../../runtime/comm/context.ts";

export interface MeshResult {
  rank: number;
  sp: [number, number];
  dp: [number, number];
  spGather: number[];
  dpGather: number[];
  worldSum: number[];
  spSum: number[];
  dpSum: number[];
  spRing: number[];
  crossed: number[];
}

export async function rankMain(ctx: RankContext): Promise<MeshResult> {
  const me = new Float32Array([ctx.rank]);
  // in flight on three groups at once, waited in the reverse order
  const hDp = ctx.dp.startAllGather(me, "dp.ag");
  const hSp = ctx.sp.startAllGather(me, "sp.ag");
  const hWorld = ctx.world.startAllReduce(new Float32Array([ctx.rank, 1]), "world.ar");
  const worldSum = [...(await hWorld.wait())];
  const spGather = [...(await hSp.wait())];
  const dpGather = [...(await hDp.wait())];
  const spSum = [...(await ctx.sp.startAllReduce(new Float32Array([ctx.rank, 1]), "sp.ar").wait())];
  const dpSum = [...(await ctx.dp.startAllReduce(new Float32Array([ctx.rank, 1]), "dp.ar").wait())];
  const { rank: s, size: S } = ctx.sp;
  const spRing = [...(await ctx.sp.startSendRecv(me, (s + 1) % S, (s + S - 1) % S, 1, "sp.ring").wait())];
  // all_reduces on two groups, waited in opposite orders on neighbouring ranks: a cycle of waits on the
  // peers' second phase, which completes only because a wait on one group drives the other's too
  const hSpAr = ctx.sp.startAllReduce(new Float32Array([1, ctx.rank]), "x.sp");
  const hDpAr = ctx.dp.startAllReduce(new Float32Array([2, ctx.rank]), "x.dp");
  const spFirst = (ctx.sp.rank + ctx.dp.rank) % 2 === 0;
  let spSums: Float32Array;
  let dpSums: Float32Array;
  if (spFirst) {
    spSums = await hSpAr.wait();
    dpSums = await hDpAr.wait();
  } else {
    dpSums = await hDpAr.wait();
    spSums = await hSpAr.wait();
  }
  const crossed = [...spSums, ...dpSums];
  await ctx.world.barrier("end");
  return {
    rank: ctx.rank,
    sp: [ctx.sp.rank, ctx.sp.size],
    dp: [ctx.dp.rank, ctx.dp.size],
    spGather,
    dpGather,
    worldSum,
    spSum,
    dpSum,
    spRing,
    crossed,
  };
}
