// Pass partition: tokens per SP rank for contiguous and zigzag layouts, uneven lengths, no token dropped.
import { describe, expect, it } from "vitest";
import { partitionPass } from "../../../compiler/passes/partition.ts";
import { initialGraph } from "../../../compiler/ir/graph.ts";
import { makeSpec } from "../fixtures.ts";
import { passContract, tinySpec } from "../helpers.ts";

passContract("partition", tinySpec({ seq: 9 }));

describe("partition", () => {
  it("cuts N = 37 over 3 ranks contiguously as 13, 12, 12", () => {
    const g = partitionPass.run(initialGraph(makeSpec({ seq: 37, parallel: { sp: 3 } })), {});
    expect(g.partition).toEqual({ layout: "contiguous", chunks: 3, segments: 1, rankTokens: [13, 12, 12] });
  });
  it("zigzag: rank r holds chunks r and 2W-1-r (N = 23, W = 2: chunks 6,6,6,5)", () => {
    const g = partitionPass.run(initialGraph(makeSpec({ seq: 23, parallel: { sp: 2, layout: "zigzag" } })), {});
    expect(g.partition).toEqual({ layout: "zigzag", chunks: 4, segments: 2, rankTokens: [6 + 5, 6 + 6] });
  });
  it("never drops a token", () => {
    for (const seq of [8, 9, 31, 100]) {
      for (const sp of [1, 2, 3, 4]) {
        for (const layout of ["contiguous", "zigzag"] as const) {
          if (seq < sp * 2) continue;
          const g = partitionPass.run(initialGraph(makeSpec({ seq, parallel: { sp, layout } })), {});
          expect(g.partition!.rankTokens.reduce((a, b) => a + b, 0)).toBe(seq);
        }
      }
    }
  });
});
