// Pass estimate: FLOPs per layer against hand counts, causal load imbalance of LASP-2H on contiguous
// chunks (zigzag evens it), activation memory of the saved buffers, comm bytes copied from the steps.
import { describe, expect, it } from "vitest";
import { estimatePass } from "../../../compiler/passes/estimate.ts";
import type { NodeOf } from "../../../compiler/ir/graph.ts";
import { causalPairs, flopsOf, visiblePairs } from "../../../compiler/cost/flops.ts";
import { canonicalJson } from "../../../compiler/plan/canonical.ts";
import { rankSegments } from "../../../compiler/plan/partition.ts";
import { makeSpec, type SpecOptions } from "../fixtures.ts";
import { expectGolden, graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("estimate", tinySpec());

const est = (o: SpecOptions) => estimatePass.run(graphBefore(makeSpec(o), "estimate"), {}).estimates!;

describe("estimate", () => {
  it("matches the golden estimates of the tiny spec", () => {
    expectGolden("ir/estimate.estimates.json", canonicalJson(estimatePass.run(graphBefore(tinySpec(), "estimate"), {}).estimates));
  });

  it("counts causal (query, key) pairs like a brute-force loop", () => {
    for (const [a, lq, c, lk] of [[0, 5, 0, 5], [10, 7, 3, 4], [3, 4, 10, 7], [5, 9, 7, 3], [0, 1, 0, 1]] as const) {
      let n = 0;
      for (let i = a; i < a + lq; i++) for (let j = c; j < c + lk; j++) if (j <= i) n++;
      expect(causalPairs(a, lq, c, lk)).toBe(n);
    }
    const segs = rankSegments(37, 3, "zigzag", 1);
    expect(visiblePairs(segs, segs, false)).toBe(12 * 12); // chunks 7,6,6,6,6,6: rank 1 holds chunks 1 and 4
    // causal: each segment sees itself causally (6*7/2 = 21), chunk 4 sees all of chunk 1, chunk 1 none of chunk 4
    expect(visiblePairs(segs, segs, true)).toBe(21 + 6 * 6 + 21);
  });

  it("a layer's projection FLOPs are 2*M*K*N summed by hand (pure dense layer parts)", () => {
    // one linear layer, sp 1, N 16, B 2: M = 32 tokens; D 32, H*dk 32, Hkv*dk 16, F 64
    const e = est({ pattern: "L", seq: 16, parallel: { sp: 1 } });
    const M = 32;
    const proj = 2 * M * 32 * (32 + 16 + 16) + 2 * M * 32 * 32 + 3 * 2 * M * 32 * 64;
    expect(e.layers[0]!.flopsForward).toBeGreaterThan(proj);
    expect(e.layers[0]!.flopsForward).toBeLessThan(proj * 1.5);
    expect(e.layers[0]!.flopsBackward).toBeGreaterThan(1.9 * proj);
  });

  it("LASP-2H softmax work: contiguous is imbalanced, zigzag evens it (max over ranks drops)", () => {
    const contiguous = est({ pattern: "N", seq: 256, parallel: { sp: 4 } }).layers[0]!.flopsForward;
    const zigzag = est({ pattern: "N", seq: 256, parallel: { sp: 4, layout: "zigzag" } }).layers[0]!.flopsForward;
    expect(zigzag).toBeLessThan(contiguous);
  });

  it("linear layers' FLOPs grow linearly in N per rank; activation bytes too", () => {
    const a = est({ pattern: "L", seq: 256, parallel: { sp: 2 } }).layers[0]!;
    const b = est({ pattern: "L", seq: 512, parallel: { sp: 2 } }).layers[0]!;
    expect(b.flopsForward / a.flopsForward).toBeGreaterThan(1.9);
    expect(b.flopsForward / a.flopsForward).toBeLessThan(2.1);
    expect(b.activationBytes / a.activationBytes).toBeGreaterThan(1.9);
  });

  it("copies each layer's comm steps with their bytes", () => {
    const e = est({ pattern: "LN" });
    expect(e.layers.map((l) => l.comm.map((c) => `${c.phase}:${c.op}`))).toEqual([
      ["forward:all_gather", "backward:all_gather"],
      ["forward:all_gather", "backward:reduce_scatter"],
    ]);
    expect(e.totals.commBytesForward).toBe(e.layers[0]!.comm[0]!.bytesPerRank + e.layers[1]!.comm[0]!.bytesPerRank);
  });
});

describe("ring cross terms", () => {
  it("cost nothing for a block entirely in the future (causal), 2 B H (C + Cs) dk dv otherwise", () => {
    const loc = { file: "t", line: 1, col: 1 };
    const node = (causal: boolean, hop: number): NodeOf<"la_cross"> => ({
      op: "la_cross", id: "f0", in: [], out: [], layer: 0, phase: "forward", loc,
      batch: 2, heads: 4, dk: 8, dv: 8, causal, block: 16, lambdas: null, gated: false, hop, groups: 1,
    });
    const ctx = (rank: number) => ({ rank, W: 4, N: 64, layout: "contiguous" as const });
    const full = 2 * 2 * 4 * (16 + 16) * 8 * 8;
    expect(flopsOf(node(true, 1), [], [], ctx(0))).toBe(0); // rank 0 receives rank 3's block: all in its future
    expect(flopsOf(node(true, 1), [], [], ctx(3))).toBe(full);
    expect(flopsOf(node(false, 1), [], [], ctx(0))).toBe(full);
    const bwd: NodeOf<"la_cross_bwd"> = { ...node(true, 2), op: "la_cross_bwd" };
    expect(flopsOf(bwd, [], [], ctx(3))).toBe(2 * full);
  });
});

describe("peak live bytes", () => {
  it("is at least the activations kept for the backward and grows with N", () => {
    const a = est({ pattern: "LN", seq: 128 }).totals;
    const b = est({ pattern: "LN", seq: 256 }).totals;
    expect(a.peakBytes!).toBeGreaterThanOrEqual(a.activationBytes);
    expect(b.peakBytes!).toBeGreaterThan(a.peakBytes!);
  });
});
