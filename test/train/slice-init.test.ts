// Rank slices of a global batch (contiguous and zigzag reassemble the batch exactly) and deterministic,
// order-independent parameter initialisation.
import { describe, expect, it } from "vitest";
import { rankPositions } from "../../compiler/plan/partition.ts";
import { makeDataSource } from "../../runtime/train/data/index.ts";
import { countScored, sliceBatch } from "../../runtime/train/data/slice.ts";
import { initParams } from "../../runtime/train/init.ts";

describe("sliceBatch", () => {
  for (const layout of ["contiguous", "zigzag"] as const) {
    it(`the ${layout} slices of W=3 ranks cover the global batch exactly, scored counts add up`, () => {
      const seq = 37;
      const g = makeDataSource({ kind: "mqar", pairs: 4 }, { vocab: 64, seq, batch: 4, seed: 3 }).next(2);
      const rebuilt = { tokens: new Int32Array(g.tokens.length).fill(-7), targets: new Int32Array(g.tokens.length).fill(-7) };
      let scored = 0;
      for (let r = 0; r < 3; r++) {
        const positions = rankPositions(seq, 3, layout, r);
        const s = sliceBatch(g, seq, { positions, rows: [1, 4] });
        expect(s.tokens.length).toBe(3 * positions.length);
        scored += countScored(s.targets);
        for (let row = 0; row < 3; row++) {
          positions.forEach((p, i) => {
            rebuilt.tokens[(row + 1) * seq + p] = s.tokens[row * positions.length + i]!;
            rebuilt.targets[(row + 1) * seq + p] = s.targets[row * positions.length + i]!;
          });
        }
      }
      expect(rebuilt.tokens.subarray(seq)).toEqual(g.tokens.subarray(seq));
      expect(rebuilt.targets.subarray(seq)).toEqual(g.targets.subarray(seq));
      expect(scored).toBe(countScored(g.targets.subarray(seq)));
      expect(scored).toBe(3 * 4);
    });
  }
  it("rejects bad rows and positions", () => {
    const g = { tokens: new Int32Array(8), targets: new Int32Array(8) };
    expect(() => sliceBatch(g, 4, { positions: new Int32Array([4]) })).toThrow(/position 4 outside/);
    expect(() => sliceBatch(g, 4, { positions: new Int32Array([0]), rows: [1, 3] })).toThrow(/rows \[1, 3\) outside the batch of 2 rows/);
  });
});

describe("initParams", () => {
  it("each parameter depends only on (seed, name), not on order", () => {
    const a = initParams([
      { name: "emb", shape: [10, 4], init: { kind: "normal", std: 0.02 } },
      { name: "norm", shape: [4], init: { kind: "constant", value: 1 } },
      { name: "w", shape: [4, 4], init: { kind: "uniform", bound: 0.5 } },
    ], 1);
    const b = initParams([
      { name: "w", shape: [4, 4], init: { kind: "uniform", bound: 0.5 } },
      { name: "emb", shape: [10, 4], init: { kind: "normal", std: 0.02 } },
    ], 1);
    expect(b.weights.get("emb")).toEqual(a.weights.get("emb"));
    expect(b.weights.get("w")).toEqual(a.weights.get("w"));
    expect(Array.from(a.weights.get("norm")!)).toEqual([1, 1, 1, 1]);
    expect(a.shapes.get("emb")).toEqual([10, 4]);
    expect(a.weights.get("w")!.every((x) => Math.abs(x) <= 0.5)).toBe(true);
    const emb = a.weights.get("emb")!;
    expect(Math.sqrt(emb.reduce((s, x) => s + x * x, 0) / emb.length)).toBeGreaterThan(0.01);
    expect(initParams([{ name: "emb", shape: [10, 4], init: { kind: "normal", std: 0.02 } }], 2).weights.get("emb")).not.toEqual(emb);
    expect(() => initParams([{ name: "x", shape: [1], init: { kind: "constant", value: 0 } }, { name: "x", shape: [1], init: { kind: "constant", value: 0 } }], 0)).toThrow(/listed twice/);
  });
});
