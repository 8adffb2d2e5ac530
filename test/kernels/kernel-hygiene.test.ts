// Kernel hygiene: every kernel leaves exactly its returned tensors alive (no leaks in long training
// runs), and the kernels give the same numbers on the pure-JS cpu backend as on wasm.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../runtime/backend/index.ts";
import { saBackward, saForward, saMerge } from "../../runtime/kernels/softmax-attention.ts";
import { gelu, geluBackward, matmulBackward, swigluBackward } from "../../runtime/kernels/dense.ts";
import { layerNormBackward, rmsNormBackward } from "../../runtime/kernels/norm.ts";
import { embeddingBackward } from "../../runtime/kernels/embed.ts";
import { heads, repeatKv, repeatKvBackward, unheads } from "../../runtime/kernels/heads.ts";
import { rope, ropeBackward } from "../../runtime/kernels/rope.ts";
import { causalConvBackward } from "../../runtime/kernels/conv.ts";
import { accuracy, crossEntropy, crossEntropyBackward } from "../../runtime/kernels/loss.ts";
import { featureBackward, featureForward } from "../../runtime/kernels/feature.ts";
import { randArray, relErr } from "../oracle/random.ts";

const count = (x: unknown): number => (x instanceof tf.Tensor ? 1 : Object.values(x as object).length);

/** Runs every kernel once on fixed inputs, checking the live-tensor count; returns all outputs' values. */
function runAll(): Float64Array[] {
  const t = (a: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(a), shape);
  const q = t(randArray(4 * 9 * 5, 1), [4, 9, 5]) as tf.Tensor3D;
  const k = t(randArray(2 * 9 * 5, 2), [2, 9, 5]) as tf.Tensor3D;
  const v = t(randArray(2 * 9 * 3, 3), [2, 9, 3]) as tf.Tensor3D;
  const dO = t(randArray(4 * 9 * 3, 4), [4, 9, 3]) as tf.Tensor3D;
  const x = t(randArray(6 * 8, 5), [6, 8]) as tf.Tensor2D;
  const w = t(randArray(8 * 8, 6), [8, 8]) as tf.Tensor2D;
  const w1 = t(randArray(8, 7), [8]) as tf.Tensor1D;
  const halo = t(randArray(8 * 8, 8), [8, 8]) as tf.Tensor2D;
  const wc = t(randArray(3 * 8, 9), [3, 8]) as tf.Tensor2D;
  const pos = Int32Array.from([0, 1, 2, 3, 4, 10, 11, 12, 13]);
  const opts = { causal: true, block: 4, groups: 2 };
  const outs: Float64Array[] = [];
  const check = (f: () => unknown) => {
    const before = tf.memory().numTensors;
    const r = f();
    expect(tf.memory().numTensors - before).toBe(count(r));
    const ts = r instanceof tf.Tensor ? [r] : (Object.values(r as object) as tf.Tensor[]);
    for (const s of ts) outs.push(Float64Array.from(s.dataSync()));
    tf.dispose(ts);
  };
  const part = saForward(q, k, v, pos, pos, opts);
  check(() => saForward(q, k, v, pos, pos, opts));
  check(() => saMerge(part, part));
  check(() => saBackward(q, k, v, part.o, part.lse, dO, pos, pos, opts));
  check(() => matmulBackward(x, w, x));
  check(() => swigluBackward(x, x, x));
  check(() => gelu(x));
  check(() => geluBackward(x, x));
  check(() => rmsNormBackward(x, w1, x, 1e-5));
  check(() => layerNormBackward(x, w1, x, 1e-5));
  check(() => embeddingBackward(Int32Array.from([1, 1, 0, 5, 2, 1]), x, 7));
  check(() => heads(x, 2, 2));
  check(() => unheads(q, 2));
  check(() => repeatKv(k, 2));
  check(() => repeatKvBackward(q, 2));
  check(() => rope(q, pos, 10000));
  check(() => ropeBackward(q, pos, 10000));
  check(() => causalConvBackward(x, halo, wc, x, { batch: 2, segLens: [1, 2] }));
  check(() => crossEntropy(x, Int32Array.from([1, -1, 0, 7, 2, 1]), 4));
  check(() => crossEntropyBackward(x, Int32Array.from([1, -1, 0, 7, 2, 1]), 4));
  check(() => accuracy(x, Int32Array.from([1, -1, 0, 7, 2, 1])));
  check(() => featureForward("taylor2", q));
  const dphi = t(randArray(4 * 9 * 31, 10), [4, 9, 31]) as tf.Tensor3D;
  check(() => featureBackward("taylor2", q, dphi));
  check(() => featureBackward("elu1", q, q));
  return outs;
}

describe("kernel hygiene", () => {
  it("no kernel leaks tensors, and cpu and wasm backends agree", async () => {
    await initBackend("wasm");
    const onWasm = runAll();
    await initBackend("cpu");
    const onCpu = runAll();
    expect(onCpu.length).toBe(onWasm.length);
    onCpu.forEach((a, i) => expect(relErr(a, onWasm[i]!)).toBeLessThan(1e-5));
  });
});
