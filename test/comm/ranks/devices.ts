// Rank module for the emulated-devices test (runtime/comm/device-clock.ts): records the wall interval of each
// compute (with one slot, no two may overlap), then the virtual times of a parallel compute, an all-gather
// overlapped with compute, a blocking chain 0 -> 1 -> 2, and a burst of three all-gathers; `die`: this rank ends its thread mid-compute,
// holding the gate, so the others must fail instead of waiting for it forever.
import type { RankContext } from "../../../runtime/comm/context.ts";
import { activeDeviceClock } from "../../../runtime/comm/device-clock.ts";

export interface DevicesResult {
  rank: number;
  /** epoch ms [start, end] of each busy compute */
  intervals: [number, number][];
  /** virtual seconds of a compute of `compute` s on every rank at once */
  parallel: number;
  /** virtual seconds of an all-gather started before a compute of 2 x its cost and waited after */
  overlapped: number;
  /** virtual seconds from the chain's start to this rank having computed on its input */
  chain: number;
  chainValue: number;
  /** virtual seconds of three all-gathers started back to back, then waited: one link, one at a time */
  burst: number;
  waited: number;
}

const wall = (): number => performance.timeOrigin + performance.now();
function busy(seconds: number, intervals: [number, number][]): void {
  const t0 = wall();
  const end = t0 + 1000 * seconds;
  while (wall() < end);
  intervals.push([t0, wall()]);
}

export async function rankMain(ctx: RankContext, args: { compute: number; ag: number; die?: number }): Promise<DevicesResult> {
  const clock = activeDeviceClock();
  if (clock === null) throw new Error("devices test: no device clock in this rank");
  const c = ctx.sp;
  const intervals: [number, number][] = [];
  if (args.die === ctx.rank) {
    busy(args.compute, intervals);
    process.exit(3);
  }
  await c.barrier("start");
  let v = clock.nowMs();
  busy(args.compute, intervals);
  await c.barrier("parallel");
  const parallel = (clock.nowMs() - v) / 1000 - 0; // the barrier's own modelled cost is tiny against compute
  v = clock.nowMs();
  const h = c.startAllGather(new Float32Array(1000).fill(ctx.rank), "ag");
  busy(2 * args.ag, intervals);
  const got = await h.wait();
  const overlapped = (clock.nowMs() - v) / 1000;
  if (got[1000 * 2] !== 2) throw new Error("devices test: all-gather data is wrong");
  await c.barrier("chain");
  v = clock.nowMs();
  let x = 0;
  if (ctx.rank > 0) x = (await c.startSendRecv(null, null, ctx.rank - 1, 1, "chain").wait())[0]!;
  busy(args.compute, intervals);
  const chain = (clock.nowMs() - v) / 1000;
  if (ctx.rank < c.size - 1) await c.startSendRecv(Float32Array.of(x + 1), ctx.rank + 1, null, 0, "chain").wait();
  await c.barrier("burst");
  v = clock.nowMs();
  const hs = [0, 1, 2].map((i) => c.startAllGather(new Float32Array(1000), `burst.${i}`));
  for (const b of hs) await b.wait();
  const burst = (clock.nowMs() - v) / 1000;
  return { rank: ctx.rank, intervals, parallel, overlapped, chain, chainValue: x, burst, waited: clock.waitedMs() / 1000 };
}
