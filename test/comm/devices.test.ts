// Emulated devices (runtime/comm/device-clock.ts): with one slot no two ranks compute at once (their busy
// intervals never overlap in wall time), yet each rank's virtual clock shows what separate devices would: a
// compute on every rank takes one compute, not three; an all-gather hidden behind a longer compute costs
// nothing; a blocking chain adds a compute and a hop per rank; collectives posted together share the link
// one after another. A rank that dies holding the gate ends the
// run with an error naming it, and a launch asking for devices without a link is refused.
import { describe, expect, it } from "vitest";
import { collectiveTime } from "../../compiler/cost/simulate-comm.ts";
import { findProfile, H100_80GB } from "../../compiler/cost/hardware/profile.ts";
import { parseLink } from "../../runtime/comm/link-emulator.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { DevicesResult } from "./ranks/devices.ts";

const entry = new URL("./ranks/devices.ts", import.meta.url);

describe("emulated devices", () => {
  it("3 ranks, one slot: serial in wall time, parallel in virtual time", async () => {
    const link = parseLink("h100/1x2000", findProfile);
    const W = 3;
    const ag = link.scale * collectiveTime("all_gather", W, 2 * 4000, W, H100_80GB).seconds;
    const hop = link.scale * collectiveTime("send_recv", W, 4, W, H100_80GB).seconds;
    const compute = 0.15;
    expect(ag).toBeGreaterThan(0.02);
    expect(ag).toBeLessThan(compute);
    const t0 = performance.now();
    const res = await launchRanks<DevicesResult>({ sp: W, dp: 1, entry, args: { compute, ag }, timeoutMs: 30_000, link, devices: { slots: 1 } });
    const wall = (performance.now() - t0) / 1000;
    const all = res.flatMap((r) => r.intervals).sort((a, b) => a[0] - b[0]);
    expect(all).toHaveLength(3 * W);
    for (let i = 1; i < all.length; i++) expect(all[i]![0], `compute ${i} starts after compute ${i - 1} ends`).toBeGreaterThanOrEqual(all[i - 1]![1]);
    // three computes of `compute` and three of 2 ag per rank, one at a time
    expect(wall).toBeGreaterThan(W * (2 * compute + 2 * ag));
    for (const r of res) {
      // on its own device each rank's compute takes `compute`, whatever the others do (upper bound: preemption slack)
      expect(r.parallel, `rank ${r.rank} parallel`).toBeGreaterThanOrEqual(compute);
      expect(r.parallel, `rank ${r.rank} parallel`).toBeLessThan(compute * 1.6);
      // the all-gather (cost ag) ran behind 2 ag of compute: hidden, up to the ranks' skew in compute time
      expect(r.overlapped, `rank ${r.rank} overlapped`).toBeGreaterThanOrEqual(2 * ag);
      expect(r.overlapped, `rank ${r.rank} overlapped`).toBeLessThan(2 * ag * 1.6);
      // rank r computes after r hops, each after its predecessor's compute
      expect(r.chain, `rank ${r.rank} chain`).toBeGreaterThanOrEqual((r.rank + 1) * compute + r.rank * hop - 1e-6);
      expect(r.chain, `rank ${r.rank} chain`).toBeLessThan(((r.rank + 1) * compute + r.rank * hop) * 1.6);
      expect(r.chainValue).toBe(r.rank);
      // the rank's link carries one transfer at a time: three back-to-back all-gathers take three
      expect(r.burst, `rank ${r.rank} burst`).toBeGreaterThanOrEqual(3 * ag * 0.999);
      expect(r.burst, `rank ${r.rank} burst`).toBeLessThan(3 * ag + 0.05);
    }
    // the last rank of the chain waited for the first two computes and hops
    expect(res[2]!.waited).toBeGreaterThanOrEqual(2 * compute + 2 * hop);
  });

  it("a rank that dies holding the gate ends the run with its error, quickly", async () => {
    const link = parseLink("h100", findProfile);
    const t0 = performance.now();
    await expect(launchRanks({ sp: 3, dp: 1, entry, args: { compute: 0.2, ag: 0, die: 0 }, timeoutMs: 60_000, link, devices: { slots: 1 } })).rejects.toThrow(/rank 0 exited with code 3/);
    expect((performance.now() - t0) / 1000).toBeLessThan(20); // not the 60 s timeout
  });

  it("devices without a link, or with no slot, are refused", async () => {
    await expect(launchRanks({ sp: 2, dp: 1, entry, args: {}, devices: { slots: 1 } })).rejects.toThrow(/emulated devices need a link emulation/);
    await expect(launchRanks({ sp: 2, dp: 1, entry, args: {}, link: parseLink("h100", findProfile), devices: { slots: 0 } })).rejects.toThrow(/slots must be an integer >= 1/);
  });
});
