// `lasp op softmax-attention` on 3 ranks, one launch for every case: lasp2h, ring and ulysses, causal and
// bidirectional, contiguous and zigzag, with N = 23 (not divisible by 3 ranks, 6 chunks, nor block 4):
// o, dq, dk, dv vs the float64 oracle, measured bytes vs the plan (and vs ALGORITHM.md section 5 for LASP-2H).
import { beforeAll, describe, expect, it } from "vitest";
import { runCases, expectMatches, expectSectionFive, measuredTotal, type CaseRun, type OpCase } from "./helpers.ts";

const base = { kind: "softmax-attention", H: 3, N: 23, block: 4 } as const;
const CASES: OpCase[] = [
  { ...base, name: "lasp2h causal", method: "lasp2h", causal: true },
  { ...base, name: "lasp2h bidirectional", method: "lasp2h", causal: false },
  { ...base, name: "lasp2h causal zigzag", method: "lasp2h", causal: true, layout: "zigzag" },
  { ...base, name: "lasp2h causal no overlap, forward only", method: "lasp2h", causal: true, overlap: false, backward: false },
  { ...base, name: "ring causal", method: "ring", causal: true },
  { ...base, name: "ring bidirectional", method: "ring", causal: false },
  { ...base, name: "ring causal zigzag", method: "ring", causal: true, layout: "zigzag" },
  { ...base, name: "ulysses causal", method: "ulysses", causal: true },
  { ...base, name: "ulysses bidirectional", method: "ulysses", causal: false },
  { ...base, name: "ulysses causal zigzag", method: "ulysses", causal: true, layout: "zigzag" },
];

describe("lasp op softmax-attention, 3 ranks, N = 23, block 4", () => {
  let runs: CaseRun[] = [];
  beforeAll(async () => {
    runs = await runCases(CASES, 3);
  });
  for (const [i, c] of CASES.entries())
    it(c.name, () => {
      const r = runs[i]!;
      expectMatches(r);
      for (let rank = 0; rank < 3; rank++) expect(measuredTotal(r, rank)).toBeGreaterThan(0);
      if (c.method === "lasp2h") expect(expectSectionFive(r, 3)).toBe(true);
    });
  it("ulysses moves only all_to_all bytes, ring only send_recv", () => {
    for (const r of runs) {
      const kinds = Object.entries(r.result.bytes[1]!.measured.sp).filter(([k, v]) => k !== "barrier" && v > 0).map(([k]) => k);
      if (r.c.method === "ulysses") expect(kinds).toEqual(["all_to_all"]);
      if (r.c.method === "ring") expect(kinds).toEqual(["send_recv"]);
    }
  });
});
