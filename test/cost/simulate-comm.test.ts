// The collective time model: monotone in bytes and group size, the inter-node link once a group spans
// nodes, and the node placement of sp / dp / world groups (world rank = dpIndex * sp + spIndex).
import { describe, expect, it } from "vitest";
import { collectiveTime, groupNodes, groupsOf, spansNodes } from "../../compiler/cost/simulate-comm.ts";
import { A100_80GB, H100_80GB } from "../../compiler/cost/hardware/profile.ts";
import type { Collective } from "../../compiler/plan/schema.ts";

const ALL: Collective[] = ["all_gather", "reduce_scatter", "all_reduce", "all_to_all", "send_recv"];

describe("collectiveTime", () => {
  it("never gets faster with more bytes, on one node or across nodes", () => {
    for (const c of ALL) {
      for (const nodes of [1, 2, 8]) {
        let prev = 0;
        for (const bytes of [0, 1, 1e3, 1e6, 1e8, 1e10]) {
          const t = collectiveTime(c, 64, bytes, nodes, H100_80GB).seconds;
          expect(t).toBeGreaterThanOrEqual(prev);
          prev = t;
        }
      }
    }
  });
  it("is latency x hops + bytes / bandwidth, hops = W-1 for a ring all-gather and 2(W-1) for all-reduce", () => {
    const hw = H100_80GB;
    const ag = collectiveTime("all_gather", 8, 45e9, 1, hw);
    expect(ag.hops).toBe(7);
    expect(ag.seconds).toBeCloseTo(hw.callOverhead + 7 * hw.intra.latency + 45e9 / 450e9, 12);
    const ar = collectiveTime("all_reduce", 8, 0, 1, hw);
    expect(ar.hops).toBe(14);
    expect(ar.seconds).toBeCloseTo(hw.callOverhead + 14 * hw.intra.latency, 12);
    expect(collectiveTime("all_gather", 1, 1e9, 1, hw).seconds).toBe(0);
  });
  it("uses the inter-node bandwidth once the group spans nodes, and spanning costs time", () => {
    for (const hw of [A100_80GB, H100_80GB]) {
      const nic = hw.inter.nicsPerNode * hw.inter.nicBandwidth;
      const one = collectiveTime("all_gather", 8, 1e9, 1, hw);
      const two = collectiveTime("all_gather", 16, 1e9, 2, hw);
      expect(one.interNode).toBe(false);
      expect(one.bandwidth).toBe(hw.intra.bandwidth);
      expect(two.interNode).toBe(true);
      expect(two.bandwidth).toBe(Math.min(hw.intra.bandwidth, nic));
      // same group size and bytes: spanning two nodes is never faster than staying inside one
      for (const c of ALL)
        expect(collectiveTime(c, 8, 1e8, 2, hw).seconds).toBeGreaterThanOrEqual(
          collectiveTime(c, 8, 1e8, 1, hw).seconds,
        );
      // a point-to-point hop across nodes goes through one NIC
      expect(collectiveTime("send_recv", 16, 1e9, 2, hw).bandwidth).toBe(hw.inter.nicBandwidth);
    }
    // A100's 4 HDR NICs (100 GB/s a node) are below NVSwitch's 300 GB/s: the ring slows down
    expect(collectiveTime("all_gather", 16, 1e9, 2, A100_80GB).bandwidth).toBe(100e9);
  });
});

describe("group placement", () => {
  it("lists sp groups as consecutive ranks and dp groups strided by sp", () => {
    const mesh = { sp: 4, dp: 2, world: 8 };
    expect(groupsOf("sp", mesh)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(groupsOf("dp", mesh)).toEqual([
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ]);
    expect(groupsOf("world", mesh)).toEqual([[0, 1, 2, 3, 4, 5, 6, 7]]);
  });
  it("spans nodes exactly when a group holds ranks of two nodes", () => {
    const hw = H100_80GB; // 8 a node
    expect(spansNodes("sp", { sp: 8, dp: 1, world: 8 }, hw)).toBe(false);
    expect(spansNodes("sp", { sp: 16, dp: 1, world: 16 }, hw)).toBe(true);
    expect(groupNodes("sp", { sp: 64, dp: 1, world: 64 }, hw)).toBe(8);
    // sp 8 x dp 2: each SP group has a node of its own, the DP groups cross
    expect(spansNodes("sp", { sp: 8, dp: 2, world: 16 }, hw)).toBe(false);
    expect(spansNodes("dp", { sp: 8, dp: 2, world: 16 }, hw)).toBe(true);
    // sp 4 x dp 2 fits one node
    expect(spansNodes("world", { sp: 4, dp: 2, world: 8 }, hw)).toBe(false);
  });
});
