// `lasp op` on 2 and 4 ranks (one launch per rank count, linear and softmax cases together): every method
// against the float64 oracle with N not divisible by the ranks or the block, bytes vs the plan's prediction.
import { beforeAll, describe, expect, it } from "vitest";
import { runCases, expectMatches, expectSectionFive, type CaseRun, type OpCase } from "./helpers.ts";

const lin = { kind: "linear-attention", H: 2, block: 3 } as const;
const sm = { kind: "softmax-attention", H: 4, block: 3 } as const;
const PER_RANKS: [number, OpCase[]][] = [
  [
    2,
    [
      { ...lin, N: 13, name: "lasp2 causal decay zigzag", method: "lasp2", causal: true, decay: [0.75, 0.5], layout: "zigzag" },
      { ...lin, N: 13, name: "lasp1 causal", method: "lasp1", causal: true },
      { ...lin, N: 13, name: "ring bidirectional", method: "ring", causal: false },
      { ...sm, N: 13, name: "lasp2h causal", method: "lasp2h", causal: true },
      { ...sm, N: 13, name: "ring causal zigzag", method: "ring", causal: true, layout: "zigzag" },
      { ...sm, N: 13, name: "ulysses bidirectional", method: "ulysses", causal: false },
    ],
  ],
  [
    4,
    [
      { ...lin, N: 18, name: "lasp2 bidirectional", method: "lasp2", causal: false },
      { ...lin, N: 18, name: "lasp1 causal decay", method: "lasp1", causal: true, decay: [0.875, 0.5] },
      { ...lin, N: 18, name: "ring causal decay", method: "ring", causal: true, decay: [0.875, 0.5] },
      { ...sm, N: 18, name: "lasp2h bidirectional zigzag", method: "lasp2h", causal: false, layout: "zigzag" },
      { ...sm, N: 18, name: "ring causal", method: "ring", causal: true },
      { ...sm, N: 18, name: "ulysses causal", method: "ulysses", causal: true },
    ],
  ],
];

for (const [ranks, cases] of PER_RANKS)
  describe(`lasp op on ${ranks} ranks`, () => {
    let runs: CaseRun[] = [];
    beforeAll(async () => {
      runs = await runCases(cases, ranks);
    });
    for (const [i, c] of cases.entries())
      it(`${c.kind} ${c.name}, N = ${c.N}`, () => {
        const r = runs[i]!;
        expectMatches(r);
        expect(r.result.bytes).toHaveLength(ranks);
        if (c.method === "lasp2" || c.method === "lasp2h") expect(expectSectionFive(r, ranks)).toBe(true);
      });
  });
