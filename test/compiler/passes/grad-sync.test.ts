// Pass grad-sync: the weight gradients all-reduced over the world group, in DDP-style buckets of at most the
// spec's parallel.bucket (GRAD_BUCKET_BYTES by default), walking the parameters from the last to the first,
// from local gradient to `grad.<name>`.
import { describe, expect, it } from "vitest";
import { GRAD_BUCKET_BYTES } from "../../../dsl/spec.ts";
import { gradBuckets, gradSync } from "../../../compiler/passes/grad-sync.ts";
import { makeSpec } from "../fixtures.ts";
import { graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("grad-sync", tinySpec());

const elems = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe("grad-sync", () => {
  const g = graphBefore(makeSpec({ pattern: "LN", parallel: { sp: 4, dp: 2 } }), "grad-sync");
  const sync = gradSync(g);
  it("all-reduces every weight gradient exactly once over sp x dp, in one bucket for a small model", () => {
    expect(sync).toHaveLength(1);
    const n = sync[0]!;
    expect(n.op === "collective" && [n.collective, n.group]).toEqual(["all_reduce", "world"]);
    const rev = [...g.params].reverse();
    expect(n.in).toEqual(rev.map((p) => g.localGrads[p.name]));
    expect(n.out).toEqual(rev.map((p) => p.grad));
  });
  it("sizes the bucket as 2(W-1)/W of its weights, W = 8 (within the uneven split's rounding)", () => {
    const total = g.params.reduce((a, p) => a + elems(p.shape), 0);
    const n = sync[0]!;
    expect(n.op === "collective" && Math.abs(n.bytesPerRank - (2 * 7 * total * 4) / 8)).toBeLessThanOrEqual(4 * 7);
  });
  it("cuts buckets at the cap, last parameters first; a tensor above the cap goes alone", () => {
    const ps = g.params;
    const cap = 4 * Math.max(...ps.map((p) => elems(p.shape)));
    const buckets = gradBuckets(ps, cap);
    expect(buckets.flat().map((p) => p.name)).toEqual([...ps].reverse().map((p) => p.name));
    for (const b of buckets) {
      const bytes = b.reduce((a, p) => a + 4 * elems(p.shape), 0);
      expect(b.length === 1 || bytes <= cap).toBe(true);
    }
    expect(buckets.length).toBeGreaterThan(1);
    // every bucket but the last is full: the next parameter would not have fitted
    const rev = [...ps].reverse();
    let i = 0;
    for (const b of buckets.slice(0, -1)) {
      i += b.length;
      const bytes = b.reduce((a, p) => a + 4 * elems(p.shape), 0);
      expect(bytes + 4 * elems(rev[i]!.shape)).toBeGreaterThan(cap);
    }
    expect(gradBuckets(ps, 1).length).toBe(ps.length);
    expect(GRAD_BUCKET_BYTES).toBe(25 * 2 ** 20);
  });
  it("takes the bucket size from the spec's parallel.bucket (bucket 1: one all-reduce per weight)", () => {
    const ps = g.params;
    const per = gradSync(graphBefore(makeSpec({ pattern: "LN", parallel: { sp: 4, dp: 2, bucket: 1 } }), "grad-sync"));
    expect(per).toHaveLength(ps.length);
    const cap = 4 * Math.max(...ps.map((p) => elems(p.shape)));
    const some = gradSync(graphBefore(makeSpec({ pattern: "LN", parallel: { sp: 4, dp: 2, bucket: cap } }), "grad-sync"));
    expect(some).toHaveLength(gradBuckets(ps, cap).length);
    expect(some.flatMap((n) => n.out)).toEqual(sync[0]!.out);
  });
});
