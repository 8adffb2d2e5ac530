// The wasm backend's Slice is replaced by one that copies only the slice (runtime/backend/wasm-slice.ts):
// its results equal a naive element-by-element slice on random shapes of rank 0-5 and every dtype the
// runtime uses, zero-size slices included, and the package's own kernel is what it replaced.
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it, vi } from "vitest";
import { initBackend } from "../../runtime/backend/index.ts";
import { sliceInto } from "../../runtime/backend/wasm-slice.ts";

/** Deterministic pseudo-random integers (no shared code with what is tested). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** x[begin : begin + size] by walking every output index and computing its flat input offset. */
function naiveSlice(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const total = size.reduce((a, b) => a * b, 1);
  for (let o = 0; o < total; o++) {
    let rem = o;
    let flat = 0;
    for (let ax = shape.length - 1, mul = 1; ax >= 0; ax--) {
      const i = rem % size[ax]!;
      rem = Math.floor(rem / size[ax]!);
      flat += (begin[ax]! + i) * mul;
      mul *= shape[ax]!;
    }
    out.push(x[flat]!);
  }
  return out;
}

function randomCase(r: (n: number) => number): { shape: number[]; begin: number[]; size: number[] } {
  const rank = r(6);
  const shape = Array.from({ length: rank }, () => 1 + r(7));
  const begin = shape.map((d) => r(d + 1));
  // size 0 on some axes now and then
  const size = shape.map((d, i) => r(d - begin[i]! + 1));
  return { shape, begin, size };
}

describe("sliceInto", () => {
  it("equals a naive slice on 300 random cases of rank 0-5", () => {
    const r = rng(7);
    for (let c = 0; c < 300; c++) {
      const { shape, begin, size } = randomCase(r);
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      const out = new Float32Array(size.reduce((a, b) => a * b, 1));
      sliceInto(x, shape, begin, size, out);
      expect(Array.from(out), JSON.stringify({ shape, begin, size })).toEqual(naiveSlice(x, shape, begin, size));
    }
  });
});

describe("wasm Slice kernel", () => {
  it("is installed over the package's own and slices float32, int32 and bool tensors like the naive slice", async () => {
    expect(await initBackend("wasm")).toBe("wasm");
    const ours = tf.getKernel("Slice", "wasm")!.kernelFunc;
    // a second init keeps the one kernel
    await initBackend("wasm");
    expect(tf.getKernel("Slice", "wasm")!.kernelFunc).toBe(ours);
    // the package's kernel reads the whole input back (readSync); this one does not
    const readSync = vi.spyOn(tf.backend(), "readSync");
    const big = tf.zeros([64, 1024]);
    tf.slice(big, [3, 0], [1, 1024]).dispose();
    expect(readSync).not.toHaveBeenCalled();
    readSync.mockRestore();
    big.dispose();
    const r = rng(11);
    for (let c = 0; c < 120; c++) {
      const { shape, begin, size } = randomCase(r);
      const n = shape.reduce((a, b) => a * b, 1);
      const vals = Array.from({ length: n }, (_, i) => (i * 7) % 13);
      for (const dtype of ["float32", "int32", "bool"] as const) {
        const src = dtype === "bool" ? vals.map((v) => v % 2) : vals;
        const x = tf.tensor(src, shape, dtype);
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(size);
        expect(Array.from(await y.data()), `${dtype} ${JSON.stringify({ shape, begin, size })}`).toEqual(naiveSlice(src, shape, begin, size));
        tf.dispose([x, y]);
      }
    }
    // -1 sizes ("to the end") and a slice of a slice
    const x = tf.reshape(tf.range(0, 24), [2, 3, 4]);
    const y = tf.slice(x, [1, 1, 0], [-1, -1, 2]);
    expect(y.shape).toEqual([1, 2, 2]);
    expect(Array.from(await y.data())).toEqual([16, 17, 20, 21]);
    expect(Array.from(await tf.slice(y, [0, 1, 1], [1, 1, 1]).data())).toEqual([21]);
  });
});
