// Whole models under sequence parallelism equal the single-device run: activations of every layer,
// every weight gradient and the loss, for each method, layout and linear variant; and the bytes each
// rank received equal the plan's prediction. The single-device run is the same spec at sp = 1.
import { describe, expect, it } from "vitest";
import { verify, worst } from "./helpers.ts";

const CASES: [string, number, string[]][] = [
  ["1/2 hybrid lasp2 + lasp2h, 3 ranks, N=37 uneven", 3, []],
  ["pure linear, 4 ranks", 4, ["model.layers=[linear, linear]"]],
  ["zigzag layout, 2 ranks", 2, ["parallel.layout=zigzag"]],
  ["zigzag layout, 3 ranks, decay (lightning)", 3, ["parallel.layout=zigzag", "model.linear.kind=lightning"]],
  ["LASP-1 chain, 3 ranks", 3, ["parallel.linear=lasp1"]],
  ["ring (linear and softmax), 3 ranks", 3, ["parallel.linear=ring", "parallel.softmax=ring"]],
  ["ring with the zigzag layout, 3 ranks", 3, ["parallel.linear=ring", "parallel.softmax=ring", "parallel.layout=zigzag"]],
  ["Ulysses softmax, 2 ranks", 2, ["parallel.softmax=ulysses"]],
  ["GLA gates, 3 ranks", 3, ["model.linear.kind=gla"]],
  ["retention decay, LASP-1, 4 ranks", 4, ["parallel.linear=lasp1", "model.linear.kind=retention"]],
  ["Based (taylor2 features + short conv halo), 2 ranks", 2, ["model.linear.kind=based"]],
  ["bidirectional, 3 ranks", 3, ["model.causal=off"]],
  ["GQA kv_heads 2, 3 ranks", 3, ["model.kv_heads=2"]],
];

describe("SP model step equals the single-device step", () => {
  for (const [name, ranks, over] of CASES)
    it(name, async () => {
      const rep = await verify(ranks, over);
      expect(rep.bytes).toEqual([]);
      expect(worst(rep)).toBeLessThan(1e-4);
      expect(rep.ok).toBe(true);
      // the comparison is not vacuous: every layer and weight was compared
      expect(rep.layers.length).toBe(2);
      expect(rep.layers.every((l) => l.grads.length > 0)).toBe(true);
    });
});
