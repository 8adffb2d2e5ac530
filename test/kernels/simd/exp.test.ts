// expFast (runtime/kernels/simd/exp.ts, the generated exp4 kernel) against Math.exp in float64: relative
// error within a few float32 ulps over the whole finite range, exact 0 below it, NaN kept, odd sizes (the
// scalar tail), and tf.exp where the kernel does not apply (cpu backend, LASP_GEMM=tfjs).
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it } from "vitest";
import { initBackend } from "../../../runtime/backend/index.ts";
import { expFast } from "../../../runtime/kernels/simd/exp.ts";

const EXP_LO = -87.33654;
const EXP_HI = 88.72283;

function worstRelative(xs: Float32Array, ys: Float32Array | Int32Array | Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!(x >= EXP_LO && x <= EXP_HI)) continue;
    const ref = Math.exp(x);
    worst = Math.max(worst, Math.abs(ys[i]! - ref) / ref);
  }
  return worst;
}

afterEach(() => {
  delete process.env["LASP_GEMM"];
});

describe("expFast", () => {
  it("on wasm: within 4e-7 relative of exp over [-87.3, 88.7], 0 below, finite above, NaN kept, any size", async () => {
    expect(await initBackend("wasm")).toBe("wasm");
    const n = 200_003; // not a multiple of 4: the last 3 values go through the scalar tail
    const xs = Float32Array.from({ length: n }, (_, i) => -95 + (190 * i) / n);
    const y = expFast(tf.tensor1d(xs));
    expect(y.shape).toEqual([n]);
    const ys = await y.data();
    expect(worstRelative(xs, ys)).toBeLessThan(4e-7);
    const special = await expFast(tf.tensor1d([NaN, -Infinity, Infinity, -1e30, -88, 0, 1, -0.5, 2.5])).data();
    expect(Number.isNaN(special[0]!)).toBe(true);
    expect([special[1], special[3], special[4], special[5]]).toEqual([0, 0, 0, 1]);
    expect(special[2]).toBeGreaterThan(3e38);
    expect(Number.isFinite(special[2]!)).toBe(true);
    expect(Math.abs(special[6]! - Math.E) / Math.E).toBeLessThan(2e-7);
    // the tail uses the same rule as the lanes
    const tail = await expFast(tf.tensor1d([0, 0, 0, 0, -88, 3, 100])).data();
    expect(tail[4]).toBe(0);
    expect(Math.abs(tail[5]! - Math.exp(3)) / Math.exp(3)).toBeLessThan(2e-7);
    expect(Number.isFinite(tail[6]!)).toBe(true);
    // shape kept; a 3-D tile as the softmax kernels pass it
    const s = tf.randomNormal([3, 5, 7], 0, 4);
    const e = expFast(s);
    expect(e.shape).toEqual([3, 5, 7]);
    expect(worstRelative(await s.data() as Float32Array, await e.data())).toBeLessThan(4e-7);
  });

  it("is tf.exp where the kernel does not apply (cpu backend, LASP_GEMM=tfjs)", async () => {
    expect(await initBackend("cpu")).toBe("cpu");
    expect((await expFast(tf.tensor1d([-88])).data())[0]).toBeGreaterThan(0); // a denormal, not our 0
    await initBackend("wasm");
    process.env["LASP_GEMM"] = "tfjs";
    const viaTf = (await expFast(tf.tensor1d([1000])).data())[0];
    expect(viaTf).toBe(Infinity);
  });
});
