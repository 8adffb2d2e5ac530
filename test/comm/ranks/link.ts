// Rank module for the link-emulation test: times, on this rank's clock, an all-gather waited at once, one
// waited after a compute longer than its cost, a send_recv chain 0 -> 1 -> 2 (each hop forwarding what it
// received), and reports the bytes received.
import type { RankContext } from "../../../runtime/comm/context.ts";

export interface LinkResult {
  rank: number;
  /** seconds from start to the end of wait() */
  immediate: number;
  afterCompute: number;
  /** epoch ms (performance.timeOrigin + now) when this rank started its first send (rank 0) or received (others) */
  chainStart: number;
  chainDone: number;
  chainValue: number;
  bytes: number;
  /** LASP-1 style chain (one-sided calls, edge ranks post fewer): epoch ms when this rank had its input */
  oneSidedStart: number;
  oneSidedDone: number;
}

const now = (): number => performance.now() / 1000;
function busy(seconds: number): void {
  const end = now() + seconds;
  while (now() < end);
}

export async function rankMain(ctx: RankContext, args: { compute: number }): Promise<LinkResult> {
  const c = ctx.sp;
  const data = new Float32Array(1000).fill(ctx.rank);
  await c.barrier("start");
  let t = now();
  await c.startAllGather(data, "ag.now").wait();
  const immediate = now() - t;
  await c.barrier("mid");
  t = now();
  const h = c.startAllGather(data, "ag.overlap");
  busy(args.compute);
  await h.wait();
  const afterCompute = now() - t;
  await c.barrier("chain");
  // the chain: rank r receives from r-1, adds its rank, sends to r+1 (one send_recv per rank, all in one round);
  // times are epoch ms so they compare across threads (each thread may leave the barrier at a different time)
  const epoch = (): number => performance.timeOrigin + performance.now();
  let value = 0;
  let chainStart = NaN;
  let chainDone = NaN;
  for (let hop = 0; hop < c.size - 1; hop++) {
    const to = ctx.rank === hop ? hop + 1 : null;
    const from = ctx.rank === hop + 1 ? hop : null;
    if (to !== null && ctx.rank === 0) chainStart = epoch();
    const got = await c.startSendRecv(to === null ? null : new Float32Array([value + ctx.rank]), to, from, from === null ? 0 : 1, `hop${hop}`).wait();
    if (from !== null) {
      value = got[0]!;
      chainDone = epoch();
    }
  }
  const b = c.bytesReceived();
  // as LASP-1's plan runs it: a blocking receive from r-1 (no call on rank 0), compute, then a send to r+1
  // (no call on the last rank); the ranks' sequences of calls differ in length
  await c.barrier("one-sided");
  const oneSidedStart = epoch();
  if (ctx.rank > 0) await c.startSendRecv(null, null, ctx.rank - 1, 1, "one-sided").wait();
  const oneSidedDone = epoch();
  busy(args.compute / 4);
  if (ctx.rank < c.size - 1) await c.startSendRecv(new Float32Array([1]), ctx.rank + 1, null, 0, "one-sided").wait();
  return { rank: ctx.rank, immediate, afterCompute, chainStart, chainDone, chainValue: value, bytes: b.all_gather + b.send_recv, oneSidedStart, oneSidedDone };
}
