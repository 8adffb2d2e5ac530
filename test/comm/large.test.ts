// 16 MiB messages through the worker-thread arena, with an arena of exactly 16 MiB per rank, so
// every collective must wait for the previous one's space to be released by all peers.
import { expect, it } from "vitest";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { LargeResult } from "./ranks/large.ts";

const MiB = 2 ** 20;

it("16 MiB all_reduce, all_gather, reduce_scatter and send_recv on 4 ranks", { timeout: 60_000 }, async () => {
  const W = 4;
  const res = await launchRanks<LargeResult>({
    sp: W,
    dp: 1,
    entry: new URL("./ranks/large.ts", import.meta.url),
    args: null,
    capacityBytes: 16 * MiB,
    timeoutMs: 30_000,
  });
  for (const r of res) {
    expect(r.checks).toEqual({
      allReduce: { wrong: 0, first: -1, length: 4 * MiB },
      allGather: { wrong: 0, first: -1, length: 4 * MiB },
      reduceScatter: { wrong: 0, first: -1, length: MiB },
      sendRecv: { wrong: 0, first: -1, length: 4 * MiB },
    });
    // all_reduce: 2 (W-1)/W of the vector; all_gather: W-1 parts; reduce_scatter: W-1 copies of a part
    expect(r.bytes).toEqual({
      all_reduce: (2 * (W - 1) * 16 * MiB) / W,
      all_gather: 12 * MiB,
      reduce_scatter: 12 * MiB,
      send_recv: 16 * MiB,
    });
  }
});
