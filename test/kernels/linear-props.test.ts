// Properties of the linear-attention kernels: the diagonal tile is masked (a future token never changes
// an earlier output), tail tokens of a short last block are kept, any block size gives the same answer,
// long chunks with sharp decay stay finite and exact, and bad requests throw.
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.ts";
import * as la from "../../runtime/kernels/linear-attention.ts";
import { globals, makeCase, oracle, relErr, simulateLasp2, worst, type Variant } from "./linear-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

const opts = (n: number, block: number, lambdas: Float32Array | null, causal = true): la.LaOpts => ({
  causal,
  block,
  lambdas,
  segLens: [n],
});

/** Adds `by` to token t of a [BH, N, d] tensor. */
function bump(x: tf.Tensor, t: number, by: number): tf.Tensor {
  const a = x.arraySync() as number[][][];
  for (const head of a) head[t] = head[t]!.map((e) => e + by);
  return tf.tensor3d(a);
}

describe("diagonal tile is masked", () => {
  for (const variant of ["none", "decay", "gated"] as Variant[])
    it(`${variant}: changing token t changes no output before t (N=37, block 8)`, () => {
      const c = makeCase(3, 37, 5, 3, variant, 5);
      const G = globals(c);
      const o0 = la.linearAttentionLocal(G.q, G.k, G.v, G.g, opts(37, 8, G.lambdas)).arraySync() as number[][][];
      for (const t of [3, 8, 13, 36]) {
        const [q, k, v] = [bump(G.q, t, 50), bump(G.k, t, 50), bump(G.v, t, 50)];
        const g = G.g ? bump(G.g, t, -2) : null;
        const o1 = la.linearAttentionLocal(q, k, v, g, opts(37, 8, G.lambdas)).arraySync() as number[][][];
        let before = 0;
        let at = 0;
        for (let h = 0; h < 3; h++)
          for (let i = 0; i <= t; i++)
            for (let e = 0; e < 3; e++) {
              const d = Math.abs(o1[h]![i]![e]! - o0[h]![i]![e]!);
              if (i < t) before = Math.max(before, d);
              else at = Math.max(at, d);
            }
        expect(before, `outputs before ${t}`).toBeLessThan(1e-5);
        expect(at, `output at ${t} must see its own token`).toBeGreaterThan(1);
      }
    });
});

describe("tail tokens are kept", () => {
  for (const [n, block] of [[37, 8], [9, 8], [37, 64], [5, 2]] as const)
    it(`N=${n}, block ${block}: every output, the tail's included, equals the oracle`, () => {
      const c = makeCase(3, n, 5, 3, "decay", n + block);
      const ref = oracle(c);
      const G = globals(c);
      const o = la.linearAttentionLocal(G.q, G.k, G.v, G.g, opts(n, block, G.lambdas)).dataSync();
      // the last token's outputs alone, per head
      for (let h = 0; h < 3; h++) {
        const at = (h * n + n - 1) * 3;
        const last = Array.from(o.slice(at, at + 3));
        const want = Array.from(ref.o.slice(at, at + 3));
        expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0.01);
        expect(relErr(last, want)).toBeLessThan(1e-4);
      }
      expect(relErr(o, ref.o)).toBeLessThan(1e-4);
    });
});

describe("single-device convenience", () => {
  it("linearAttentionLocal(Bwd) with two consecutive segments equals the oracle (gated)", () => {
    const c = makeCase(3, 37, 5, 3, "gated", 9);
    const ref = oracle(c);
    const G = globals(c);
    const o = { ...opts(37, 8, null), segLens: [20, 17] };
    const out = la.linearAttentionLocal(G.q, G.k, G.v, G.g, o);
    const gr = la.linearAttentionLocalBwd(G.q, G.k, G.v, G.g, G.dO, o);
    const got = { o: Float64Array.from(out.dataSync()), dq: Float64Array.from(gr.dq.dataSync()), dk: Float64Array.from(gr.dk.dataSync()), dv: Float64Array.from(gr.dv.dataSync()), dg: Float64Array.from(gr.dg!.dataSync()) };
    for (const [name, e] of Object.entries(worst(got, ref))) expect(e, name).toBeLessThan(1e-4);
  });
});

describe("numerics", () => {
  it("long chunk (N=160, block 64) with sharp gates and decay stays finite and matches the oracle", () => {
    const c = makeCase(2, 160, 4, 3, "gated+decay", 3);
    // sharpen: log alpha down to about -8; lambdas 0.9, 0.6
    const g = c.x.g!;
    for (let i = 0; i < g.length; i++) g[i] = Math.fround(g[i]! * 2.5);
    const ref = oracle(c);
    const got = simulateLasp2(c, 2, "contiguous", 64);
    for (const a of [got.o, got.dq, got.dk, got.dv, got.dg!]) expect(a.every(Number.isFinite)).toBe(true);
    for (const [name, e] of Object.entries(worst(got, ref))) expect(e, name).toBeLessThan(1e-4);
  });

  it("any block size, N, W and layout gives the oracle's answer (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("contiguous" as const, "zigzag" as const),
        fc.constantFrom<Variant>("none", "decay", "gated", "bidir"),
        (n, block, w, layout, variant) => {
          const c = makeCase(2, n, 3, 2, variant, n * 7 + block);
          const errs = worst(simulateLasp2(c, w, layout, block), oracle(c));
          return Object.values(errs).every((e) => e < 1e-4);
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });
});

describe("bad requests throw", () => {
  const c = makeCase(3, 10, 5, 3, "gated", 1);
  let G: ReturnType<typeof globals>;
  beforeAll(() => {
    G = globals(c);
  });
  it("bidirectional with decay or gates", () => {
    expect(() => la.laIntra(G.q, G.k, G.v, null, opts(10, 4, new Float32Array([0.5, 0.5, 0.5]), false))).toThrow(/bidirectional/);
    expect(() => la.laState(G.k, G.v, G.g, opts(10, 4, null, false))).toThrow(/bidirectional/);
  });
  it("segment lengths that do not cover the tokens", () => {
    expect(() => la.laIntra(G.q, G.k, G.v, null, { ...opts(10, 4, null), segLens: [4, 5] })).toThrow(/segLens/);
  });
  it("a ring block that is not before the queries", () => {
    const pos = Int32Array.from({ length: 10 }, (_, i) => i);
    expect(() => la.laCross(G.q, pos, G.k, G.v, pos, null)).toThrow(/not before/);
  });
  it("lambda outside (0, 1]", () => {
    expect(() => la.laIntra(G.q, G.k, G.v, null, opts(10, 4, new Float32Array([0.5, 1.5, 0.5])))).toThrow(/outside/);
  });
});
