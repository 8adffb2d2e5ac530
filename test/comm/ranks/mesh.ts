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
  };
}
