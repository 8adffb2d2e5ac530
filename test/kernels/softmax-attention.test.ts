// Softmax attention on W simulated ranks (LASP-2H gathered K/V, ring with saMerge, Ulysses head shards)
// against the float64 full-matrix oracle: o, dq, dk, dv; causal and bidirectional, GQA, odd sizes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../runtime/backend/index.ts";
import { saBackward, saForward, saMerge, SA_EMPTY_LSE } from "../../runtime/kernels/softmax-attention.ts";
import { blockMask } from "../../runtime/kernels/softmax-mask.ts";
import type { Layout } from "../../dsl/spec.ts";
import { relErr } from "../oracle/random.ts";
import { makeGlobal, runLasp2h, runRing, runUlysses, type Case, type Global, type Result } from "./sa-sim.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

const TOL = 1e-4;
/** Largest relative error seen per quantity, printed once at the end (for reports). */
const worst = { o: 0, dq: 0, dk: 0, dv: 0 };
afterAll(() => {
  console.log(`softmax attention worst relative errors: ${JSON.stringify(worst)}`);
});

function expectClose(got: Result, g: Global): void {
  for (const key of ["o", "dq", "dk", "dv"] as const) {
    const e = relErr(got[key], g.ref[key]);
    worst[key] = Math.max(worst[key], e);
    expect(e, key).toBeLessThan(TOL);
  }
}

const layouts: Layout[] = ["contiguous", "zigzag"];
const sizes = [37, 50];

describe("softmax attention under simulated SP equals the float64 oracle", () => {
  for (const causal of [true, false])
    for (const n of sizes)
      for (const layout of layouts)
        for (const w of [1, 2, 3, 4]) {
          const c: Case = { n, b: 2, h: 4, hkv: 2, dk: 5, dv: 3, causal, block: 8 };
          const name = `${causal ? "causal" : "bidir"} N=${n} ${layout} W=${w}`;
          it(`LASP-2H ${name}`, () => {
            const g = makeGlobal(c, 11 + n + w);
            expectClose(runLasp2h(c, g, w, layout), g);
          });
          it(`ring ${name}`, () => {
            const g = makeGlobal(c, 23 + n + w);
            expectClose(runRing(c, g, w, layout), g);
          });
          it(`Ulysses ${name}`, () => {
            const cu = w === 3 ? { ...c, h: 6, hkv: 3 } : c;
            const g = makeGlobal(cu, 37 + n + w);
            expectClose(runUlysses(cu, g, w, layout), g);
          });
        }
});

describe("softmax attention with empty chunks (N < chunks)", () => {
  for (const layout of layouts)
    for (const causal of [true, false]) {
      const c: Case = { n: 5, b: 1, h: 4, hkv: 2, dk: 3, dv: 2, causal, block: 2 };
      const name = `${causal ? "causal" : "bidir"} N=5 ${layout} W=4`;
      it(`LASP-2H, ring, Ulysses ${name}`, () => {
        const g = makeGlobal(c, 71);
        expectClose(runLasp2h(c, g, 4, layout), g);
        expectClose(runRing(c, g, 4, layout), g);
        expectClose(runUlysses(c, g, 4, layout), g);
      });
    }
});

describe("softmax attention single-call cases", () => {
  it("MHA (groups 1), block larger than the chunk, dk 3 dv 4", () => {
    const c: Case = { n: 13, b: 1, h: 3, hkv: 3, dk: 3, dv: 4, causal: true, block: 64 };
    const g = makeGlobal(c, 5);
    expectClose(runLasp2h(c, g, 1, "contiguous"), g);
  });
  it("block 1 and GQA groups 4", () => {
    const c: Case = { n: 9, b: 1, h: 4, hkv: 1, dk: 2, dv: 2, causal: true, block: 1 };
    const g = makeGlobal(c, 6);
    expectClose(runLasp2h(c, g, 3, "zigzag"), g);
  });
  it("a query row that sees no key gives o = 0, a finite lse, and merges as the identity", () => {
    const q = tf.randomNormal([2, 3, 4]) as tf.Tensor3D;
    const k = tf.randomNormal([1, 5, 4]) as tf.Tensor3D;
    const v = tf.randomNormal([1, 5, 2]) as tf.Tensor3D;
    const opts = { causal: true, block: 2, groups: 2 };
    // queries at 0, 7, 9; keys at 8..12: query 0 and 7 see nothing, 9 sees keys 8 and 9
    const posQ = Int32Array.from([0, 7, 9]);
    const posK = Int32Array.from([8, 9, 10, 11, 12]);
    const part = saForward(q, k, v, posQ, posK, opts);
    const o = part.o.arraySync();
    const lse = part.lse.arraySync();
    for (let h = 0; h < 2; h++)
      for (const i of [0, 1]) {
        expect(o[h]![i]).toEqual([0, 0]);
        expect(lse[h]![i]).toBeLessThanOrEqual(SA_EMPTY_LSE / 2);
      }
    expect(Number.isFinite(lse[0]![2])).toBe(true);
    const none = saForward(q, k, v, posQ, Int32Array.from([20, 21, 22, 23, 24]), opts);
    const merged = saMerge(none, part);
    expect(relErr(merged.o.dataSync(), part.o.dataSync())).toBeLessThan(1e-7);
    expect(relErr(merged.lse.dataSync().slice(), part.lse.dataSync().slice())).toBeLessThan(1e-7);
    const both = saMerge(none, none);
    expect(Array.from(both.o.dataSync()).every((x) => x === 0)).toBe(true);
    expect(Array.from(both.lse.dataSync()).every(Number.isFinite)).toBe(true);
    const dO = tf.randomNormal([2, 3, 2]) as tf.Tensor3D;
    const gr = saBackward(q, k, v, none.o, none.lse, dO, posQ, Int32Array.from([20, 21, 22, 23, 24]), opts);
    for (const t of [gr.dq, gr.dk, gr.dv]) expect(Array.from(t.dataSync()).every((x) => x === 0)).toBe(true);
  });
  it("blockMask skips key tiles no query can see and leaves fully visible tiles unmasked", () => {
    const posQ = Int32Array.from([4, 5, 6, 7]);
    const posK = Int32Array.from([0, 1, 2, 3, 8, 9, 5, 6]);
    expect(blockMask(posQ, 0, 4, posK, 0, 4, true, 2).kind).toBe("full");
    expect(blockMask(posQ, 0, 4, posK, 4, 2, true, 2).kind).toBe("skip");
    const m = blockMask(posQ, 0, 4, posK, 6, 2, true, 2);
    expect(m.kind).toBe("mask");
    if (m.kind === "mask") expect(Array.from(m.keep.slice(0, 8))).toEqual([0, 0, 1, 0, 1, 1, 1, 1]);
    expect(blockMask(posQ, 0, 4, posK, 4, 2, false, 2).kind).toBe("full");
  });
});
