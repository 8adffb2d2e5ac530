// The sp x dp mesh of launchRanks: world rank = dpIndex * sp + spIndex, SP groups are consecutive
// ranks, and each group's collectives stay inside it (also with several groups in flight at once).
import { describe, expect, it } from "vitest";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { MeshResult } from "./ranks/mesh.ts";

const entry = new URL("./ranks/mesh.ts", import.meta.url);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const range = (n: number, from = 0, step = 1): number[] => Array.from({ length: n }, (_, i) => from + i * step);

describe.each([
  [2, 2],
  [1, 2],
  [3, 1],
])("mesh sp=%i dp=%i", (sp, dp) => {
  it("groups hold the right ranks and reduce within themselves", async () => {
    const W = sp * dp;
    const res = await launchRanks<MeshResult>({ sp, dp, entry, args: null, timeoutMs: 20_000 });
    expect(res.map((r) => r.rank)).toEqual(range(W));
    for (const r of range(W)) {
      const spIndex = r % sp;
      const dpIndex = Math.floor(r / sp);
      const spGroup = range(sp, dpIndex * sp);
      const dpGroup = range(dp, spIndex, sp);
      const got = res[r]!;
      expect(got.sp).toEqual([spIndex, sp]);
      expect(got.dp).toEqual([dpIndex, dp]);
      expect(got.spGather).toEqual(spGroup);
      expect(got.dpGather).toEqual(dpGroup);
      expect(got.worldSum).toEqual([(W * (W - 1)) / 2, W]);
      expect(got.spSum).toEqual([spGroup.reduce((a, b) => a + b, 0), sp]);
      expect(got.dpSum).toEqual([dpGroup.reduce((a, b) => a + b, 0), dp]);
      expect(got.spRing).toEqual([spGroup[(spIndex + sp - 1) % sp]]);
      expect(got.crossed).toEqual([sp, sum(spGroup), 2 * dp, sum(dpGroup)]);
    }
  });
});
