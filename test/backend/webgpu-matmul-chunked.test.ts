// Batched products of more matrices than one dispatch may hold (WebGPU caps a dispatch's z at 65535; the
// H100 run hit it at 16 heads x 4096 blocks): run in chunks. On lavapipe with the chunk lowered to 4, both
// the tiled kernel and tfjs's, against float64 loops; on Dawn's null device at the real size.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";
import { setMaxBatchPerDispatch, tiledMatmulCalls } from "../../runtime/backend/wgsl/matmul-tiled.ts";

process.env["XDG_RUNTIME_DIR"] ??= "/tmp";
process.env["LASP_WEBGPU_SOFTWARE"] = "1";
const probe = await startWebGPU();
if (!probe.ok && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error(`webgpu software device required: ${probe.reason}`);

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

/** op(A) op(B) per batch in float64; each operand [batch or 1, rows, cols] flattened. */
function oracle(a: Float32Array, aB: number, ar: number, ac: number, b: Float32Array, bB: number, br: number, bc: number, ta: boolean, tb: boolean, batch: number): Float64Array {
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const N = tb ? br : bc;
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = (aB === 1 ? 0 : z) * ar * ac;
    const bo = (bB === 1 ? 0 : z) * br * bc;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a[ao + (ta ? k * ac + i : i * ac + k)]! * b[bo + (tb ? j * bc + k : k * bc + j)]!;
        out[(z * M + i) * N + j] = acc;
      }
  }
  return out;
}

describe.skipIf(!probe.ok)("batched matMul over the per-dispatch limit (lavapipe, limit lowered to 4)", () => {
  afterAll(() => stopWebGPU());

  const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean; tiled: boolean; out: number[] }[] = [
    { name: "tiled kernel, full batches", a: [10, 64, 64], b: [10, 64, 64], ta: false, tb: false, tiled: true, out: [10, 64, 64] },
    { name: "tiled kernel, transposed, B broadcast", a: [9, 64, 70], b: [70, 64], ta: true, tb: true, tiled: true, out: [9, 70, 70] },
    { name: "tfjs kernel, 4-d batch, B broadcast", a: [3, 4, 5, 6], b: [6, 7], ta: false, tb: false, tiled: false, out: [3, 4, 5, 7] },
    { name: "tfjs kernel, A broadcast", a: [1, 5, 3], b: [13, 3, 4], ta: false, tb: false, tiled: false, out: [13, 5, 4] },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const prev = setMaxBatchPerDispatch(4);
      try {
        const av = rand(c.a.reduce((x, y) => x * y, 1), 7);
        const bv = rand(c.b.reduce((x, y) => x * y, 1), 11);
        const a = tf.tensor(av, c.a);
        const b = tf.tensor(bv, c.b);
        const ids = tf.engine().backend.numDataIds();
        const calls = tiledMatmulCalls();
        const y = tf.matMul(a, b, c.ta, c.tb);
        const got = await y.data();
        const r = (s: number[]) => [s.slice(0, -2).reduce((x, z) => x * z, 1), s.at(-2)!, s.at(-1)!] as const;
        const [aB, ar, ac] = r(c.a);
        const [bB, br, bc] = r(c.b);
        const batch = Math.max(aB, bB);
        const want = oracle(av, aB, ar, ac, bv, bB, br, bc, c.ta, c.tb, batch);
        expect(y.shape).toEqual(c.out);
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
          scale = Math.max(scale, Math.abs(want[i]!));
        }
        expect(worst / scale).toBeLessThan(1e-5);
        // chunks of at most 4: the tiled kernel ran once per chunk, or not at all
        expect(tiledMatmulCalls() - calls).toBe(c.tiled ? Math.ceil(batch / 4) : 0);
        y.dispose();
        // nothing the chunks made outlives the product
        expect(tf.engine().backend.numDataIds()).toBe(ids);
        tf.dispose([a, b]);
      } finally {
        setMaxBatchPerDispatch(prev);
      }
    });

  it("operands whose batches broadcast both ways are refused with the shapes", () => {
    const prev = setMaxBatchPerDispatch(4);
    try {
      expect(() => tf.matMul(tf.ones([2, 1, 3, 3]), tf.ones([1, 5, 3, 3]))).toThrow(/batch to be 1 or 10, got \[2,1,3,3\]/);
    } finally {
      setMaxBatchPerDispatch(prev);
    }
  });
});
