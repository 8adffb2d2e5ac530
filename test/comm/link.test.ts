// The emulated interconnect (runtime/comm/link-emulator.ts) on the thread transport: a collective waited at
// once takes at least its modelled time, one waited after a longer compute costs (almost) nothing, a chain of
// dependent sends adds up hop by hop, the data and byte counts are those of the plain transport, and a bad
// --link spec is an error that says what to write.
import { describe, expect, it } from "vitest";
import { collectiveTime } from "../../compiler/cost/simulate-comm.ts";
import { findProfile, H100_80GB } from "../../compiler/cost/hardware/profile.ts";
import { nodesSpanned, parseLink } from "../../runtime/comm/link-emulator.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { LinkResult } from "./ranks/link.ts";

const entry = new URL("./ranks/link.ts", import.meta.url);

describe("link emulation", () => {
  it("3 ranks, H100 links with one rank per node, costs x 20000", async () => {
    // large enough that scheduling noise on a loaded 2-core machine (tens of ms) stays well inside the margins
    const link = parseLink("h100/1x20000", findProfile);
    const W = 3;
    const ag = link.scale * collectiveTime("all_gather", W, 2 * 4000, 3, H100_80GB).seconds;
    const hop = link.scale * collectiveTime("send_recv", W, 4, 3, H100_80GB).seconds;
    expect(ag).toBeGreaterThan(0.3);
    const res = await launchRanks<LinkResult>({ sp: W, dp: 1, entry, args: { compute: 2 * ag }, timeoutMs: 30_000, link });
    for (const r of res) {
      expect(r.immediate, `rank ${r.rank} waited at once`).toBeGreaterThanOrEqual(ag * 0.99);
      // overlapped: compute + at most a skew between ranks; waited at once it would be compute + ag or more
      expect(r.afterCompute, `rank ${r.rank} overlapped`).toBeLessThan(2 * ag + 0.9 * ag);
      expect(r.bytes).toBe(2 * 4000 * 2 + (r.rank === 0 ? 0 : 4)); // two all-gathers + the one float it received
    }
    // seconds from rank 0's send to each receiver's arrival: one hop, then two (the second waits for the first)
    const t0 = res[0]!.chainStart;
    expect((res[1]!.chainDone - t0) / 1000).toBeGreaterThanOrEqual(hop * 0.99);
    expect((res[2]!.chainDone - t0) / 1000).toBeGreaterThanOrEqual(2 * hop * 0.99);
    expect(res[2]!.chainValue).toBe(0 + 1); // rank 0 sent 0, rank 1 forwarded 0 + 1
    // one-sided chain (rank 0 only sends, rank 2 only receives): rank r has its input r x (compute + hop)
    // after the start, each receive paired with its own sender's stamp
    const t1 = Math.min(...res.map((r) => r.oneSidedStart));
    for (const r of res.slice(1))
      expect((r.oneSidedDone - t1) / 1000, `rank ${r.rank} one-sided`).toBeGreaterThanOrEqual(r.rank * (2 * ag / 4 + hop) * 0.99);
  });

  it("without --link the same module runs at memory speed", async () => {
    const res = await launchRanks<LinkResult>({ sp: 2, dp: 1, entry, args: { compute: 0 }, timeoutMs: 30_000 });
    for (const r of res) expect(r.immediate).toBeLessThan(0.25); // the emulated one above takes over 0.3 s
  });

  it("spec parsing and node spans", () => {
    expect(parseLink("H100", findProfile)).toMatchObject({ perNode: 8, scale: 1 });
    expect(parseLink("a100/2x300", findProfile)).toMatchObject({ perNode: 2, scale: 300 });
    expect(() => parseLink("tpu/2", findProfile)).toThrow(/--link 'tpu\/2': expected PROFILE\[\/RANKS_PER_NODE\]\[xSCALE\]/);
    expect(() => parseLink("h100/0", findProfile)).toThrow(/ranks per node must be >= 1/);
    expect(nodesSpanned([0, 1, 2, 3], 2)).toBe(2);
    expect(nodesSpanned([4, 5], 8)).toBe(1);
  });
});
