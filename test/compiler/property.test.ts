// Property tests over random specs (fast-check): compile either succeeds or returns only LASP31xx
// configuration errors; a compiled plan passes the verifier (compile runs it after every pass), validates
// against the schema, and every rank's bytes per layer equal the closed forms of ALGORITHM.md section 5.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Spec, LinearLayerSpec, SoftmaxLayerSpec } from "../../dsl/spec.ts";
import { compile } from "../../compiler/index.ts";
import { verify } from "../../compiler/ir/verify.ts";
import { validatePlan } from "../../compiler/plan/validate.ts";
import { bytesReceived } from "../../compiler/cost/bytes.ts";
import { expectedLayerBytes } from "../../compiler/cost/formulas.ts";
import { makeSpec } from "./fixtures.ts";
import { commStarts } from "./helpers.ts";

const linearArb = (heads: number): fc.Arbitrary<LinearLayerSpec> =>
  fc.record({
    variant: fc.constantFrom("basic", "lightning", "retention", "gla", "based", "rebased"),
    feature: fc.constantFrom("identity", "elu1", "relu", "silu", "taylor2", "square"),
    decay: fc.oneof(
      fc.constant({ kind: "none" as const }),
      fc.record({ kind: fc.constant("fixed" as const), lambdas: fc.array(fc.double({ min: 0.5, max: 1, noNaN: true }), { minLength: heads, maxLength: heads }) }),
      fc.record({ kind: fc.constant("gate" as const), rank: fc.integer({ min: 1, max: 4 }), tau: fc.constantFrom(1, 16) }),
    ),
    conv: fc.constantFrom(0, 0, 2, 4),
    causal: fc.boolean(),
  });

const softmaxArb: fc.Arbitrary<SoftmaxLayerSpec> = fc.record({ ropeTheta: fc.constantFrom(10000, null), causal: fc.boolean() });

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    kvHeads: fc.constantFrom(1, 2),
    groups: fc.constantFrom(1, 2),
    headDim: fc.constantFrom(2, 4),
    pattern: fc.stringMatching(/^[LN]{1,4}$/),
    sp: fc.integer({ min: 1, max: 4 }),
    dp: fc.integer({ min: 1, max: 2 }),
    seq: fc.integer({ min: 1, max: 48 }),
    batch: fc.integer({ min: 1, max: 2 }),
    linearMethod: fc.constantFrom("lasp2", "lasp1", "ring"),
    softmaxMethod: fc.constantFrom("lasp2h", "ring", "ulysses"),
    layout: fc.constantFrom("contiguous", "zigzag"),
    overlap: fc.boolean(),
    tie: fc.boolean(),
  })
  .chain((o) =>
    fc.record({ o: fc.constant(o), linear: linearArb(o.kvHeads * o.groups), softmax: softmaxArb }),
  )
  .map(({ o, linear, softmax }) =>
    makeSpec({
      pattern: o.pattern,
      linear,
      softmax,
      seq: o.seq,
      batch: o.batch,
      model: { heads: o.kvHeads * o.groups, kvHeads: o.kvHeads, headDim: o.headDim, valueDim: o.headDim, hidden: 8, ffn: 8, vocab: 8, tieEmbeddings: o.tie },
      parallel: { sp: o.sp, dp: o.dp, linear: o.linearMethod, softmax: o.softmaxMethod, layout: o.layout, overlap: o.overlap, block: 4 },
    }),
  );

describe("random specs", () => {
  it("compile to valid plans whose bytes follow section 5, or fail with LASP31xx only", () => {
    let compiled = 0;
    fc.assert(
      fc.property(specArb, (spec) => {
        const r = compile(spec);
        if (r.plan === null) {
          expect(r.diagnostics.length).toBeGreaterThan(0);
          for (const d of r.diagnostics) expect(d.code).toMatch(/^LASP31\d\d$/);
          return;
        }
        compiled++;
        expect(verify(r.graph, { lowered: { attention: true, collectives: true } })).toEqual([]);
        expect(validatePlan(r.plan)).toEqual([]);
        const ctx = { mesh: r.plan.mesh, rankTokens: r.plan.estimates.rankTokens };
        for (let l = 0; l < spec.model.layers.length; l++) {
          for (let rank = 0; rank < spec.parallel.sp; rank++) {
            const want = expectedLayerBytes(spec, l, rank);
            const got = (phase: string) => commStarts(r.plan!, { layer: l, phase }).reduce((s, c) => s + bytesReceived(c, ctx, rank), 0);
            expect(got("forward")).toBeCloseTo(want.forward, 6);
            expect(got("backward")).toBeCloseTo(want.backward, 6);
          }
        }
      }),
      { numRuns: 150, seed: 20261126 },
    );
    expect(compiled).toBeGreaterThan(50);
  });

  it("compile deterministically (same spec, same plan text)", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const a = compile(spec);
        const b = compile(structuredClone(spec));
        expect(JSON.stringify(b.plan)).toBe(JSON.stringify(a.plan));
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});
