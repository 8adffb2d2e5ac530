// Property test: random valid softmax-attention configurations (batch, heads, GQA groups, N, W, layout,
// block, head dims, causal) under simulated LASP-2H and ring SP equal the float64 oracle.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { initBackend } from "../../runtime/backend/index.ts";
import { relErr } from "../oracle/random.ts";
import { makeGlobal, runLasp2h, runRing, type Case, type Result } from "./sa-sim.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

const config = fc.record({
  b: fc.integer({ min: 1, max: 2 }),
  hkv: fc.integer({ min: 1, max: 3 }),
  groups: fc.integer({ min: 1, max: 3 }),
  n: fc.integer({ min: 1, max: 33 }),
  w: fc.integer({ min: 1, max: 5 }),
  zigzag: fc.boolean(),
  block: fc.integer({ min: 1, max: 12 }),
  dk: fc.integer({ min: 1, max: 6 }),
  dv: fc.integer({ min: 1, max: 6 }),
  causal: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe("softmax attention property", () => {
  it("LASP-2H and ring equal the oracle on random configurations", () => {
    fc.assert(
      fc.property(config, (p) => {
        const c: Case = { n: p.n, b: p.b, h: p.hkv * p.groups, hkv: p.hkv, dk: p.dk, dv: p.dv, causal: p.causal, block: p.block };
        const g = makeGlobal(c, p.seed);
        const layout = p.zigzag ? "zigzag" : "contiguous";
        for (const got of [runLasp2h(c, g, p.w, layout), runRing(c, g, p.w, layout)] as Result[])
          for (const key of ["o", "dq", "dk", "dv"] as const) expect(relErr(got[key], g.ref[key]), key).toBeLessThan(1e-4);
      }),
      { numRuns: 30, seed: 20261126 },
    );
  });
});
