// Our WebAssembly SIMD GEMM (runtime/kernels/simd) against a float64 triple loop that shares no code with
// it: odd sizes (tile edges), long inner dimensions (K slices), both transposes, batch broadcast; and the
// tf.matMul-compatible wrapper on the wasm and cpu backends.
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it } from "vitest";
import { initBackend } from "../../../runtime/backend/index.ts";
import { gemm, gemmAvailable, type GemmArgs } from "../../../runtime/kernels/simd/gemm.ts";
import { matMul, simdMatMulActive } from "../../../runtime/kernels/simd/matmul.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function naive(a: Float32Array, b: Float32Array, g: GemmArgs): Float64Array {
  const { X, M, N, K } = g;
  const out = new Float64Array(X * M * N);
  for (let x = 0; x < X; x++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const ai = (g.batchA ? x : 0) * M * K + (g.transA ? k * M + m : m * K + k);
          const bi = (g.batchB ? x : 0) * K * N + (g.transB ? n * K + k : k * N + n);
          s += a[ai]! * b[bi]!;
        }
        out[(x * M + m) * N + n] = s;
      }
  return out;
}

/** max |got - ref| / (max |ref| + 1e-30) */
function relErr(got: ArrayLike<number>, ref: Float64Array): number {
  expect(got.length).toBe(ref.length);
  let d = 0;
  let r = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - ref[i]!));
    r = Math.max(r, Math.abs(ref[i]!));
  }
  return d / (r + 1e-30);
}

describe("SIMD gemm kernel", () => {
  it("compiles in this runtime", () => expect(gemmAvailable()).toBe(true));

  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1],
    [3, 5, 7, 9],
    [2, 17, 3, 31],
    [1, 13, 33, 1],
    [4, 8, 8, 8],
    [2, 37, 70, 300], // K split into slices of 256, packed B (N >= 64) only when M >= 256
    [1, 260, 65, 600], // packed A (K >= 128) and packed B
    [3, 4, 8, 700],
  ];
  for (const [X, M, N, K] of shapes)
    it(`X ${X} M ${M} N ${N} K ${K}: every transpose and broadcast matches float64 within 4e-6`, () => {
      const r = rng(X * 1000 + M * 100 + N * 10 + K);
      for (const transA of [false, true])
        for (const transB of [false, true])
          for (const [batchA, batchB] of [[true, true], [false, true], [true, false]] as const) {
            const g: GemmArgs = { X, M, N, K, transA, transB, batchA, batchB };
            const a = Float32Array.from({ length: (batchA ? X : 1) * M * K }, r);
            const b = Float32Array.from({ length: (batchB ? X : 1) * K * N }, r);
            const e = relErr(gemm(a, b, g)!, naive(a, b, g));
            expect(e, JSON.stringify(g)).toBeLessThan(4e-6);
          }
    });

  it("zero-sized products give zeros or nothing", () => {
    const g = { X: 2, M: 3, N: 4, K: 0, transA: false, transB: false, batchA: true, batchB: true };
    expect([...gemm(new Float32Array(0), new Float32Array(0), g)!]).toEqual(new Array(24).fill(0));
    expect(gemm(new Float32Array(6), new Float32Array(0), { ...g, K: 3, N: 0 })!.length).toBe(0);
  });

  it("a result is not disturbed by NaN left in the padding of an earlier call", () => {
    const nan = new Float32Array(64 * 64).fill(NaN);
    gemm(nan, nan, { X: 1, M: 64, N: 64, K: 64, transA: false, transB: false, batchA: true, batchB: true });
    const g = { X: 1, M: 5, N: 6, K: 3, transA: false, transB: false, batchA: true, batchB: true };
    const r = rng(9);
    const a = Float32Array.from({ length: 15 }, r);
    const b = Float32Array.from({ length: 18 }, r);
    expect(relErr(gemm(a, b, g)!, naive(a, b, g))).toBeLessThan(1e-6);
  });
});

describe("matMul (tf.matMul semantics)", () => {
  afterEach(() => {
    delete process.env["LASP_GEMM"];
  });
  for (const backend of ["wasm", "cpu"] as const)
    it(`${backend}: rank 2/3, broadcast and transposes equal tf.matMul, through the SIMD kernel`, async () => {
      await initBackend(backend);
      expect(simdMatMulActive()).toBe(true);
      const cases: [number[], number[], boolean, boolean][] = [
        [[3, 5, 7], [3, 7, 4], false, false],
        [[5, 7], [1, 7, 4], false, false],
        [[2, 7, 5], [7, 4], true, false],
        [[2, 5, 300], [2, 9, 300], false, true],
        [[1, 600, 9], [3, 600, 11], true, false],
        [[64, 33], [65, 33], false, true],
      ];
      const before = tf.memory().numTensors;
      for (const [sa, sb, ta, tb] of cases) {
        const [a, b] = [tf.randomNormal(sa, 0, 1, "float32", 1), tf.randomNormal(sb, 0, 1, "float32", 2)];
        const want = tf.matMul(a, b, ta, tb);
        const got = matMul(a, b, ta, tb);
        expect(got.shape).toEqual(want.shape);
        const ref = Float64Array.from(want.dataSync());
        expect(relErr(got.dataSync(), ref), `${sa} x ${sb}`).toBeLessThan(1e-5);
        tf.dispose([a, b, want, got]);
      }
      expect(tf.memory().numTensors).toBe(before);
    });

  it("LASP_GEMM=tfjs hands every product to tf.matMul; mismatched inner sizes are an error that names both shapes", async () => {
    await initBackend("wasm");
    process.env["LASP_GEMM"] = "tfjs";
    expect(simdMatMulActive()).toBe(false);
    delete process.env["LASP_GEMM"];
    expect(simdMatMulActive()).toBe(true);
    expect(() => matMul(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(/\[2,3\] x \[4,5\]/);
  });
});

describe("triangular skipping (TRI) gives the full product's values", () => {
  for (const backend of ["wasm", "cpu"] as const)
    it(`${backend}: aLower / aUpper on triangular operands, outLower's lower triangle, odd sizes and both transposes`, async () => {
      await initBackend(backend);
      for (const [X, n, d] of [[3, 13, 5], [2, 64, 64], [1, 37, 70]] as [number, number, number][]) {
        const lower = tf.tidy(() => tf.mul(tf.randomNormal([X, n, n], 0, 1, "float32", n), tf.linalg.bandPart(tf.ones([n, n]), -1, 0)));
        const upper = tf.transpose(lower, [0, 2, 1]);
        const b = tf.randomNormal([X, n, d], 0, 1, "float32", d);
        const full = (a: tf.Tensor, ta: boolean) => tf.matMul(a, b, ta, false);
        const cases: [tf.Tensor, boolean, "aLower" | "aUpper"][] = [
          [lower, false, "aLower"],
          [upper, false, "aUpper"],
          [upper, true, "aLower"], // op(A) = upper^T = lower
          [lower, true, "aUpper"],
        ];
        for (const [a, ta, tri] of cases) {
          const ref = Float64Array.from(full(a, ta).dataSync());
          expect(relErr(matMul(a, b, ta, false, { tri }).dataSync(), ref), `${tri} ta=${ta} n=${n}`).toBeLessThan(1e-6);
        }
        // outLower: q k^T, only r >= s compared (the rest is the caller's to mask)
        const q = tf.randomNormal([X, n, d], 0, 1, "float32", 3);
        const got = matMul(q, b, false, true, { tri: "outLower" }).dataSync();
        const want = tf.matMul(q, b, false, true).dataSync();
        let worst = 0;
        for (let x = 0; x < X; x++)
          for (let r = 0; r < n; r++) for (let s = 0; s <= r; s++) worst = Math.max(worst, Math.abs(got[(x * n + r) * n + s]! - want[(x * n + r) * n + s]!));
        expect(worst, `outLower n=${n}`).toBeLessThan(1e-4);
      }
      await initBackend("wasm");
    });
});
