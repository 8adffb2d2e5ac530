// Rank module for the collective tests: runs every collective once on ctx.world (uneven counts),
// several at once with out-of-order waits, then reports results and byte counters.
import type { RankContext } from "../../../runtime/comm/context.ts";
import type { ByteCounts } from "../../../runtime/comm/communicator.ts";
import { a2aCount, allReduceLength, fill, unevenCounts } from "../fixtures.ts";

export interface SuiteResult {
  allGather: Float32Array;
  reduceScatter: Float32Array;
  allReduce: Float32Array;
  allToAll: Float32Array;
  ring: Float32Array;
  chain: Float32Array;
  bytes: ByteCounts[];
  inFlight: Float32Array[];
  manyInFlight: number[];
}

export async function rankMain(ctx: RankContext): Promise<SuiteResult> {
  const c = ctx.world;
  const W = c.size;
  const r = c.rank;
  const bytes: ByteCounts[] = [];
  const snap = (): void => {
    bytes.push(c.bytesReceived());
    c.resetByteCounts();
  };
  const counts = unevenCounts(W);

  const allGather = await c.startAllGather(fill(1, r, counts[r]!), "ag", counts).wait();
  snap();
  const total = counts.reduce((a, b) => a + b, 0);
  const reduceScatter = await c.startReduceScatter(fill(2, r, total), "rs", counts).wait();
  snap();
  const allReduce = await c.startAllReduce(fill(3, r, allReduceLength(W)), "ar").wait();
  snap();
  const send = Array.from({ length: W }, (_, j) => a2aCount(r, j));
  const recv = Array.from({ length: W }, (_, j) => a2aCount(j, r));
  const sendData = Float32Array.from({ length: send.reduce((a, b) => a + b, 0) }, (_, i) => 10_000 * r + i);
  const allToAll = await c.startAllToAll(sendData, "a2a", send, recv).wait();
  snap();
  const ring = await c.startSendRecv(fill(5, r, 7), (r + 1) % W, (r + W - 1) % W, 7, "ring").wait();
  snap();
  // LASP-1 shaped chain: the first rank only sends, the last only receives.
  const chain = await c
    .startSendRecv(
      r < W - 1 ? fill(6, r, 5 + r) : null,
      r < W - 1 ? r + 1 : null,
      r > 0 ? r - 1 : null,
      r > 0 ? 4 + r : 0,
      "chain",
    )
    .wait();
  snap();
  await c.barrier("barrier");
  snap();

  // Several in flight; even ranks wait in reverse order, odd ranks in start order.
  const hs = [
    c.startAllGather(fill(7, r, 4), "f.ag"),
    c.startAllReduce(fill(8, r, 9), "f.ar"),
    c.startSendRecv(fill(9, r, 3), (r + 1) % W, (r + W - 1) % W, 3, "f.p2p"),
    c.startReduceScatter(fill(10, r, 2 * W), "f.rs"),
  ];
  const order = r % 2 === 0 ? [3, 2, 1, 0] : [0, 1, 2, 3];
  const inFlight: Float32Array[] = new Array<Float32Array>(4);
  for (const k of order) inFlight[k] = await hs[k]!.wait();
  snap();

  // More collectives in flight than slots in the ring (16): starts block, driving the earlier ones.
  const many = Array.from({ length: 40 }, (_, k) => c.startAllReduce(new Float32Array([k, r]), `m${k}`));
  const manyInFlight: number[] = [];
  for (const h of many.reverse()) manyInFlight.push(...(await h.wait()));
  return { allGather, reduceScatter, allReduce, allToAll, ring, chain, bytes, inFlight, manyInFlight };
}
