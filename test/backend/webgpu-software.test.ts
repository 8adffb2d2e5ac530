// The webgpu backend's shaders run for real on a software Vulkan device (Mesa's lavapipe, on the CPU):
// the fused WGSL kernels against the tfjs-op paths and the float64 oracles, on odd sizes. Needs
// mesa-vulkan-drivers >= 23 (Debian 12: bookworm-backports); .ci/run installs it and sets
// LASP_REQUIRE_WEBGPU_SOFTWARE=1 so a missing device fails CI instead of skipping.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";
import { gpuKernelCalls } from "../../runtime/kernels/gpu-hooks.ts";
import { prefixFold, suffixFold } from "../../runtime/kernels/linear/fold.ts";
import { runScanBlocks, scanDispatch } from "../../runtime/backend/wgsl/scan.ts";
import { runTileAttend, tileDispatch } from "../../runtime/backend/wgsl/tile.ts";
import { makeCase, oracle, simulateLasp2Async, worst, type Variant } from "../kernels/linear-harness.ts";
import { saBackward, saForward } from "../../runtime/kernels/softmax-attention.ts";
import { naiveSaBackward, naiveSaForward, type NaiveSaShape } from "../oracle/softmax-attention.ts";

process.env["LASP_WEBGPU_SOFTWARE"] = "1";
process.env["XDG_RUNTIME_DIR"] ??= "/tmp";
const start = await startWebGPU();
const why = start.ok ? "" : start.reason;
if (!start.ok && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error(`webgpu software device required: ${why}`);

afterAll(() => stopWebGPU());

function rand(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return tf.tensor(a, shape);
}

describe.skipIf(!start.ok)(`webgpu on a software device ${start.ok ? `(${start.info.description})` : `(skipped: ${why})`}`, () => {
  it("an adapter=NAME flag (LASP_WEBGPU_ADAPTER) that matches nothing: Dawn's message lists the adapters there are", async () => {
    const { create } = (await import("webgpu")) as unknown as { create: (f: string[]) => GPU };
    const err = await create(["backend=vulkan", "adapter=no-such-gpu"]).requestAdapter().then(() => null, (e: Error) => e.message);
    expect(err).toMatch(/Available adapters:[\s\S]*llvmpipe/);
  });

  it("splits a dispatch over 32768 workgroups into rows", () => {
    expect(scanDispatch(1)).toEqual([1, 1, 1]);
    expect(scanDispatch(64 * 32768 + 1)).toEqual([32768, 2, 1]);
  });

  for (const [name, gd] of [["no decay", 0], ["scalar decay", 1], ["per-key-dim decay", 5]] as const)
    for (const reverse of [false, true])
      it(`block scan, ${name}, ${reverse ? "reverse" : "forward"}: equals the serial fold (R 3, J 7, dk 5, dv 3)`, async () => {
        const [R, J, dk, dv] = [3, 7, 5, 3];
        const states = rand([R * J, dk, dv], 11);
        const logA = gd === 0 ? null : rand([R * J, gd], 5, -0.7, 0);
        const got = runScanBlocks(states, logA, R, J, reverse);
        const rows = tf.unstack(tf.reshape(states, [R, J, dk, dv]), 1);
        const as = logA === null ? null : tf.unstack(tf.reshape(logA, [R, J, gd]), 1);
        const maps = rows.map((m, j) => ({ m, logA: as === null ? null : as[j]! }));
        const zero = tf.zeros([R, dk, dv]);
        const ref = tf.reshape(tf.stack(reverse ? suffixFold(maps, zero) : prefixFold(maps, zero), 1), [R * J, dk, dv]);
        const err = (await tf.max(tf.abs(tf.sub(got, ref))).data())[0]!;
        const scale = (await tf.max(tf.abs(ref)).data())[0]!;
        expect(scale).toBeGreaterThan(0.5);
        expect(err / scale).toBeLessThan(1e-6);
      });

  for (const decay of [false, true])
    for (const upper of [false, true])
      it(`tile product, ${upper ? "upper" : "lower"}${decay ? ", decayed" : ""}: a float64 loop (X 3, b 37 over 16-row tiles, da 5, dc 19)`, async () => {
        const [X, b, da, dc] = [3, 37, 5, 19];
        const a = rand([X, b, da], 41);
        const bm = rand([X, b, da], 42);
        const cv = rand([X, b, dc], 43);
        // cumulative log-decay from the block start: non-increasing
        const c = decay ? tf.cumsum(rand([X, b, 1], 44, -0.3, 0), 1) : null;
        const got = await runTileAttend(a, bm, cv, c, upper).data();
        const [A, B, V] = await Promise.all([a.data(), bm.data(), cv.data()]);
        const C = c === null ? null : await c.data();
        let err = 0;
        let scale = 0;
        for (let x = 0; x < X; x++)
          for (let i = 0; i < b; i++)
            for (let e = 0; e < dc; e++) {
              let want = 0;
              for (let j = 0; j < b; j++) {
                if (upper ? j < i : j > i) continue;
                let dot = 0;
                for (let d = 0; d < da; d++) dot += A[(x * b + i) * da + d]! * B[(x * b + j) * da + d]!;
                const w = C === null ? 1 : Math.exp(Math.min(upper ? C[x * b + j]! - C[x * b + i]! : C[x * b + i]! - C[x * b + j]!, 0));
                want += w * dot * V[(x * b + j) * dc + e]!;
              }
              err = Math.max(err, Math.abs(got[(x * b + i) * dc + e]! - want));
              scale = Math.max(scale, Math.abs(want));
            }
        expect(scale).toBeGreaterThan(1);
        expect(err / scale).toBeLessThan(1e-5);
        expect(tileDispatch(70000, 37)).toEqual([3, 65535, 2]);
      });

  it("linear attention with decay, N 150 over 2 ranks, block 40 (tiles cross 16-row boundaries): the float64 oracle", async () => {
    const c = makeCase(2, 150, 7, 5, "decay", 23);
    const errs = worst(await simulateLasp2Async(c, 2, "contiguous", 40), oracle(c));
    for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
  });

  for (const variant of ["none", "decay", "gated", "gated+decay", "bidir"] as Variant[])
    it(`linear attention ${variant}, N 37 over 3 ranks zigzag, block 4: the float64 oracle, through the fused scan`, async () => {
      const before = gpuKernelCalls();
      const c = makeCase(3, 37, 5, 3, variant, 21);
      const errs = worst(await simulateLasp2Async(c, 3, "zigzag", 4), oracle(c));
      for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
      if (variant !== "bidir") expect(gpuKernelCalls()).toBeGreaterThan(before);
    });

  const saCases = [
    { name: "causal GQA 4 heads over 2, 29 queries after 7 earlier keys, d 6", bh: 4, groups: 2, cq: 29, ck: 36, dk: 6, dv: 6, causal: true, qOff: 7, kOff: 0 },
    { name: "bidirectional, 3 heads, 21 queries x 17 keys, dk 40, dv 24", bh: 3, groups: 1, cq: 21, ck: 17, dk: 40, dv: 24, causal: false, qOff: 0, kOff: 0 },
    { name: "causal, 3 query heads on 1 kv head, the first 5 queries see no key", bh: 3, groups: 3, cq: 19, ck: 23, dk: 8, dv: 5, causal: true, qOff: 0, kOff: 5 },
  ];
  for (const c of saCases)
    it(`softmax attention, ${c.name}: the float64 oracle, through the fused kernels`, async () => {
      const before = gpuKernelCalls();
      const posQ = Int32Array.from({ length: c.cq }, (_, i) => c.qOff + i);
      const posK = Int32Array.from({ length: c.ck }, (_, i) => c.kOff + i);
      const s: NaiveSaShape = { bh: c.bh, groups: c.groups, cq: c.cq, ck: c.ck, dk: c.dk, dv: c.dv, causal: c.causal, posQ, posK };
      const bhkv = c.bh / c.groups;
      const [q, k, v, dO] = [rand([c.bh, c.cq, c.dk], 31), rand([bhkv, c.ck, c.dk], 32), rand([bhkv, c.ck, c.dv], 33), rand([c.bh, c.cq, c.dv], 34)] as tf.Tensor3D[];
      const flat = async (t: tf.Tensor | undefined): Promise<Float64Array> => Float64Array.from(await t!.data());
      const [qa, ka, va, da] = await Promise.all([q, k, v, dO].map(flat));
      const opts = { causal: c.causal, block: 8, groups: c.groups };
      const { o, lse } = saForward(q!, k!, v!, posQ, posK, opts);
      const gr = saBackward(q!, k!, v!, o, lse, dO!, posQ, posK, opts);
      expect(gpuKernelCalls()).toBeGreaterThanOrEqual(before + 2);
      const ref = naiveSaBackward(s, qa!, ka!, va!, da!);
      const rel = (got: ArrayLike<number>, want: Float64Array): number => {
        let e = 0;
        let m = 0;
        want.forEach((w, i) => ((e = Math.max(e, Math.abs(got[i]! - w))), (m = Math.max(m, Math.abs(w)))));
        return e / m;
      };
      expect(rel(await o.data(), naiveSaForward(s, qa!, ka!, va!)), "o").toBeLessThan(1e-5);
      expect(rel(await gr.dq.data(), ref.dq), "dq").toBeLessThan(1e-5);
      expect(rel(await gr.dk.data(), ref.dk), "dk").toBeLessThan(1e-5);
      expect(rel(await gr.dv.data(), ref.dv), "dv").toBeLessThan(1e-5);
      // lse: float64 log-sum-exp of the visible scaled scores; a row that sees no key stays at SA_EMPTY_LSE
      const got = await lse.data();
      const scale = 1 / Math.sqrt(c.dk);
      for (let h = 0; h < c.bh; h++)
        for (let i = 0; i < c.cq; i++) {
          const sc: number[] = [];
          for (let j = 0; j < c.ck; j++) {
            if (c.causal && posK[j]! > posQ[i]!) continue;
            let dot = 0;
            for (let e = 0; e < c.dk; e++) dot += qa![(h * c.cq + i) * c.dk + e]! * ka![(Math.floor(h / c.groups) * c.ck + j) * c.dk + e]!;
            sc.push(dot * scale);
          }
          const g = got[h * c.cq + i]!;
          if (sc.length === 0) expect(g).toBeLessThan(-1e29);
          else {
            const mx = Math.max(...sc);
            expect(Math.abs(g - (mx + Math.log(sc.reduce((a, x) => a + Math.exp(x - mx), 0))))).toBeLessThan(1e-4);
          }
        }
    });
});
