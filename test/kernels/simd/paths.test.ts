// Both forms of every kernel that has a CPU fast path agree with the float64 oracles: the SIMD / plain-JS
// form (wasm and cpu backends) and the tfjs-op form that other backends (webgpu, tensorflow) run, forced
// here with LASP_GEMM=tfjs and LASP_JS_KERNELS=0. Plus the streamed kernels (scan, mulRows, matMul's
// addend) against loops written out here.
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../runtime/backend/index.ts";
import { causalConv, causalConvBackward } from "../../../runtime/kernels/conv.ts";
import { featureBackward, featureForward } from "../../../runtime/kernels/feature.ts";
import { matMul, simdMatMulActive } from "../../../runtime/kernels/simd/matmul.ts";
import { mulRows, scanBlocks } from "../../../runtime/kernels/simd/scan.ts";
import { jsKernelsActive } from "../../../runtime/kernels/cpu/arrays.ts";
import { embedding } from "../../../runtime/kernels/embed.ts";
import { makeCase, oracle, simulateLasp2, worst, type Variant } from "../linear-harness.ts";

const FORMS = {
  fast: {},
  tfjs: { LASP_GEMM: "tfjs", LASP_JS_KERNELS: "0" },
} as const;

function setForm(form: keyof typeof FORMS): void {
  delete process.env["LASP_GEMM"];
  delete process.env["LASP_JS_KERNELS"];
  Object.assign(process.env, FORMS[form]);
}

beforeAll(async () => {
  await initBackend("wasm");
});
afterEach(() => setForm("fast"));

describe("embedding gather: row copies in the kernels' memory and tf.gather agree exactly", () => {
  for (const backend of ["wasm", "cpu"] as const)
    it(`${backend} backend: 300 ids (repeats, first and last row) from a [37, 9] table`, async () => {
      await initBackend(backend);
      try {
        const w = tf.tensor2d(Float32Array.from({ length: 37 * 9 }, (_, i) => Math.sin(i)), [37, 9]);
        const ids = Int32Array.from({ length: 300 }, (_, i) => (i * 13) % 37);
        ids[0] = 36;
        setForm("fast");
        const fast = embedding(ids, w).arraySync();
        setForm("tfjs");
        const ref = embedding(ids, w).arraySync();
        expect(fast).toEqual(ref);
        expect(fast[0]).toEqual(Array.from(w.arraySync()[36]!));
      } finally {
        await initBackend("wasm");
      }
    });
});

describe("linear attention: SIMD form and tfjs form both match the oracle", () => {
  for (const form of ["fast", "tfjs"] as const)
    for (const variant of ["none", "decay", "gated", "bidir"] as Variant[])
      it(`${form}: ${variant}, N=45 W=3 contiguous block 8 (odd dims 5/3)`, () => {
        setForm(form);
        expect(simdMatMulActive()).toBe(form === "fast");
        const c = makeCase(3, 45, 5, 3, variant, 91);
        const errs = worst(simulateLasp2(c, 3, "contiguous", 8), oracle(c));
        for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThan(1e-4);
      });
});

function rnd(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [a.dataSync(), b.dataSync()];
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

describe("conv and feature maps: the JS form equals the tfjs form", () => {
  it("causal conv forward and backward, 2 segments, kernel 4, odd width", () => {
    const [b, c, d, kc] = [3, 11, 7, 4];
    const opts = { batch: b, segLens: [6, 5] };
    const [x, halo, w, dy] = [rnd([b * c, d], 1), rnd([b * 2 * (kc - 1), d], 2), rnd([kc, d], 3), rnd([b * c, d], 4)] as tf.Tensor2D[];
    const run = () => {
      const y = causalConv(x!, halo!, w!, opts);
      const g = causalConvBackward(x!, halo!, w!, dy!, opts);
      return [y, g.dx, g.dw, g.dhalo];
    };
    setForm("fast");
    expect(jsKernelsActive()).toBe(true);
    const fast = run();
    setForm("tfjs");
    expect(jsKernelsActive()).toBe(false);
    const slow = run();
    fast.forEach((t, i) => expect(maxDiff(t, slow[i]!), `output ${i}`).toBeLessThan(1e-5));
  });

  for (const kind of ["elu1", "relu", "silu", "square"] as const)
    it(`feature map ${kind}, forward and backward`, () => {
      const [x, dy] = [rnd([2, 9, 5], 5), rnd([2, 9, 5], 6)] as tf.Tensor3D[];
      setForm("fast");
      const fast = [featureForward(kind, x!), featureBackward(kind, x!, dy!)];
      setForm("tfjs");
      const slow = [featureForward(kind, x!), featureBackward(kind, x!, dy!)];
      fast.forEach((t, i) => expect(maxDiff(t, slow[i]!), `${kind} ${i}`).toBeLessThan(1e-5));
    });
});

describe("streamed SIMD kernels against loops", () => {
  for (const backend of ["wasm", "cpu"] as const)
    it(`${backend}: scanBlocks forward and reverse, with and without decay factors, L = 15 (not a multiple of 4)`, async () => {
      await initBackend(backend);
      const [R, J, L] = [3, 5, 15];
      const s = rnd([R * J, 3, 5], 7);
      const sv = s.dataSync();
      const fac = Float32Array.from({ length: R * J }, (_, i) => 0.5 + 0.03 * i);
      for (const factors of [null, fac])
        for (const reverse of [false, true]) {
          const got = scanBlocks(s, R, J, factors, reverse)!.dataSync();
          for (let r = 0; r < R; r++) {
            const acc = new Float64Array(L);
            const order = reverse ? [...Array(J).keys()].reverse() : [...Array(J).keys()];
            for (const j of order) {
              for (let e = 0; e < L; e++) expect(Math.abs(got[(r * J + j) * L + e]! - acc[e]!)).toBeLessThan(1e-5);
              const f = factors ? factors[r * J + j]! : 1;
              for (let e = 0; e < L; e++) acc[e] = f * acc[e]! + sv[(r * J + j) * L + e]!;
            }
          }
        }
      await initBackend("wasm");
    });

  it("mulRows broadcasts one pattern per row over its items (P = 9)", () => {
    const [R, J] = [2, 3];
    const x = rnd([R * J, 3, 3], 8);
    const m = rnd([R, 3, 3], 9);
    const got = mulRows(x, m, R, J)!.dataSync();
    const [xv, mv] = [x.dataSync(), m.dataSync()];
    for (let i = 0; i < R * J * 9; i++) expect(got[i]).toBe(Math.fround(xv[i]! * mv[Math.floor(i / (J * 9)) * 9 + (i % 9)]!));
  });

  for (const backend of ["wasm", "cpu"] as const)
    it(`${backend}: matMul with an addend equals product + addend, at tile edges and with K slices`, async () => {
      await initBackend(backend);
      for (const [sa, sb, ta, tb] of [[[2, 5, 7], [2, 7, 6], false, false], [[3, 300, 9], [3, 300, 12], true, false], [[16, 8], [8, 16], false, false]] as [number[], number[], boolean, boolean][]) {
        const [a, b] = [rnd(sa, 10), rnd(sb, 11)];
        const p = tf.matMul(a, b, ta, tb);
        const add = rnd(p.shape, 12);
        expect(maxDiff(matMul(a, b, ta, tb, { add }), tf.add(p, add))).toBeLessThan(1e-4);
      }
      expect(() => matMul(rnd([2, 3], 1), rnd([3, 4], 2), false, false, { add: rnd([2, 5], 3) })).toThrow(/addend \[2,5\] does not match the product \[2,4\]/);
      await initBackend("wasm");
    });
});
