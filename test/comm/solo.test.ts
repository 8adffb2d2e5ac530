// Groups of one rank (sp = 1 or dp = 1): every collective returns this rank's own data, counted as
// zero bytes received, and bad arguments are CommErrors; plus the shared part-size helpers.
import { describe, expect, it } from "vitest";
import { CommError } from "../../runtime/comm/communicator.ts";
import { allReduceCounts, offsetsOf, receivedBytes, resolveCounts } from "../../runtime/comm/parts.ts";
import { SoloCommunicator } from "../../runtime/comm/solo.ts";

describe("SoloCommunicator", () => {
  it("returns copies of its own data and counts no bytes", async () => {
    const c = new SoloCommunicator("sp", 5);
    const x = new Float32Array([1, 2, 3]);
    const ag = await c.startAllGather(x, "ag").wait();
    x[0] = 9;
    expect(ag).toEqual(new Float32Array([1, 2, 3]));
    expect(await c.startReduceScatter(x, "rs", [3]).wait()).toEqual(new Float32Array([9, 2, 3]));
    expect(await c.startAllReduce(x, "ar").wait()).toEqual(x);
    expect(await c.startAllToAll(x, "a2a").wait()).toEqual(x);
    expect(await c.startSendRecv(x, 0, 0, 3, "self").wait()).toEqual(x);
    expect(await c.startSendRecv(null, null, null, 0, "none").wait()).toEqual(new Float32Array(0));
    await c.barrier("b");
    expect(Object.values(c.bytesReceived())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("rejects wrong counts, a second wait and peers out of range", async () => {
    const c = new SoloCommunicator("dp", 2);
    expect(() => c.startAllGather(new Float32Array(2), "ag", [3])).toThrow(CommError);
    expect(() => c.startAllGather(new Float32Array(2), "ag", [1, 1])).toThrow(/counts must be 1/);
    expect(() => c.startSendRecv(null, 1, null, 0, "p")).toThrow(/peer out of range/);
    const h = c.startAllReduce(new Float32Array(1), "ar");
    await h.wait();
    await expect(h.wait()).rejects.toThrow(/wait\(\) called twice/);
  });
});

describe("part helpers", () => {
  it("split, offsets and received-bytes formulas", () => {
    expect(allReduceCounts(10, 4)).toEqual([3, 3, 2, 2]);
    expect(allReduceCounts(2, 4)).toEqual([1, 1, 0, 0]);
    expect(offsetsOf([2, 0, 3])).toEqual([0, 2, 2, 5]);
    expect(resolveCounts(undefined, 3, 4, { rank: 0, label: "x", what: "all_gather" })).toEqual([4, 4, 4]);
    expect(() => resolveCounts([1, -1], 2, 0, { rank: 0, label: "x", what: "all_gather" })).toThrow(CommError);
    expect(receivedBytes.allGather([2, 0, 3], 0)).toBe(12);
    expect(receivedBytes.reduceScatter([2, 0, 3], 2)).toBe(24);
    // 10 over 4 ranks, rank 0 owns 3: reduce phase 3 x 3 from peers, gather phase 7 others' elements
    expect(receivedBytes.allReduce(10, 4, 0)).toBe(4 * (9 + 7));
    expect(receivedBytes.allToAll([1, 2, 3], 1)).toBe(16);
  });
});
