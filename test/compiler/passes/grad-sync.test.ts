// Pass grad-sync: one all_reduce over the world group per parameter, from its local gradient to `grad.<name>`.
import { describe, expect, it } from "vitest";
import { gradSync } from "../../../compiler/passes/grad-sync.ts";
import { makeSpec } from "../fixtures.ts";
import { graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("grad-sync", tinySpec());

describe("grad-sync", () => {
  const g = graphBefore(makeSpec({ pattern: "LN", parallel: { sp: 4, dp: 2 } }), "grad-sync");
  const sync = gradSync(g);
  it("all-reduces every weight gradient once over sp x dp", () => {
    expect(sync).toHaveLength(g.params.length);
    for (const [i, n] of sync.entries()) {
      const p = g.params[i]!;
      expect(n.op === "collective" && [n.collective, n.group]).toEqual(["all_reduce", "world"]);
      expect(n.in).toEqual([g.localGrads[p.name]]);
      expect(n.out).toEqual([p.grad]);
    }
  });
  it("sizes each as 2(W-1)/W of the weight, W = 8", () => {
    for (const [i, n] of sync.entries()) {
      const size = g.params[i]!.shape.reduce((a, b) => a * b, 1);
      expect(n.op === "collective" && n.bytesPerRank).toBeCloseTo((2 * 7 * size * 4) / 8, 9);
    }
  });
});
