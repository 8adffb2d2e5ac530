// `lasp op linear-attention` on 3 ranks, one launch for every case: each method (lasp2, lasp1, ring),
// causal and bidirectional where allowed, with and without decay, both layouts, overlap on and off, with
// N = 23 (not divisible by 3 ranks, 6 zigzag chunks, nor block 4): o, dq, dk, dv vs the float64 oracle,
// measured bytes vs the plan's prediction (and vs ALGORITHM.md section 5 for LASP-2).
import { beforeAll, describe, expect, it } from "vitest";
import { runCases, expectMatches, expectSectionFive, measuredTotal, type CaseRun, type OpCase } from "./helpers.ts";

const base = { kind: "linear-attention", H: 2, N: 23, block: 4 } as const;
const DECAY = [0.9, 0.625];
const CASES: OpCase[] = [
  { ...base, name: "lasp2 causal", method: "lasp2", causal: true },
  { ...base, name: "lasp2 causal decay", method: "lasp2", causal: true, decay: DECAY },
  { ...base, name: "lasp2 bidirectional", method: "lasp2", causal: false },
  { ...base, name: "lasp2 causal decay zigzag", method: "lasp2", causal: true, decay: DECAY, layout: "zigzag" },
  { ...base, name: "lasp2 causal no overlap", method: "lasp2", causal: true, overlap: false },
  { ...base, name: "lasp2 causal forward only", method: "lasp2", causal: true, backward: false },
  { ...base, name: "lasp1 causal", method: "lasp1", causal: true },
  { ...base, name: "lasp1 causal decay", method: "lasp1", causal: true, decay: DECAY },
  { ...base, name: "ring causal", method: "ring", causal: true },
  { ...base, name: "ring causal decay", method: "ring", causal: true, decay: DECAY },
  { ...base, name: "ring bidirectional", method: "ring", causal: false },
  { ...base, name: "ring causal decay zigzag", method: "ring", causal: true, decay: DECAY, layout: "zigzag" },
  { ...base, name: "ring bidirectional zigzag", method: "ring", causal: false, layout: "zigzag" },
];

describe("lasp op linear-attention, 3 ranks, N = 23, block 4", () => {
  let runs: CaseRun[] = [];
  beforeAll(async () => {
    runs = await runCases(CASES, 3);
  });
  for (const [i, c] of CASES.entries())
    it(c.name, () => {
      const r = runs[i]!;
      expectMatches(r);
      // every rank received something: the ranks really exchanged data
      for (let rank = 0; rank < 3; rank++) if (c.method !== "lasp1" || rank > 0) expect(measuredTotal(r, rank)).toBeGreaterThan(0);
      if (c.method === "lasp2") expect(expectSectionFive(r, 3)).toBe(true);
    });
  it("LASP-1 moves one H dk dv state per hop each way; rank 0 receives nothing forward, rank 2 nothing backward", () => {
    const r = runs[CASES.findIndex((c) => c.name === "lasp1 causal")]!;
    const hop = 2 * 4 * 3 * 4;
    expect(r.result.bytes.map((b) => b.measured.sp.send_recv)).toEqual([hop, 2 * hop, hop]);
  });
});
