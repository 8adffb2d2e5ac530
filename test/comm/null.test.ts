// NullCommunicator (runtime/comm/null.ts): one rank of a W-rank group alone. Every collective returns at once
// with the sizes a real group would give, this rank's own part in place and zeros for the peers'.
import { describe, expect, it } from "vitest";
import { NullCommunicator } from "../../runtime/comm/null.ts";

describe("NullCommunicator", () => {
  const c = new NullCommunicator("sp", 3, 1);
  it("all_gather: the group's total length, own part at its offset", async () => {
    expect([...(await c.startAllGather(Float32Array.of(7, 8), "ag").wait())]).toEqual([0, 0, 7, 8, 0, 0]);
    expect([...(await c.startAllGather(Float32Array.of(5), "ag", [2, 1, 3]).wait())]).toEqual([0, 0, 5, 0, 0, 0]);
  });
  it("reduce_scatter, all_reduce, all_to_all, send_recv: the sizes of a real group", async () => {
    expect([...(await c.startReduceScatter(Float32Array.of(1, 2, 3, 4, 5, 6), "rs").wait())]).toEqual([3, 4]);
    expect([...(await c.startAllReduce(Float32Array.of(1, 2), "ar").wait())]).toEqual([1, 2]);
    expect((await c.startAllToAll(new Float32Array(6), "a2a", [2, 2, 2], [1, 4, 2]).wait()).length).toBe(7);
    expect((await c.startSendRecv(Float32Array.of(1), 2, 0, 5, "p2p").wait()).length).toBe(5);
    expect((await c.startSendRecv(Float32Array.of(1), 2, null, 0, "p2p").wait()).length).toBe(0);
  });
  it("counts nothing received and refuses a rank outside the group", () => {
    expect(Object.values(c.bytesReceived()).every((b) => b === 0)).toBe(true);
    expect(() => new NullCommunicator("sp", 2, 2)).toThrow(/rank 2 of 2 is out of range/);
  });
});
