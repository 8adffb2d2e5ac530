// Matmul on the webgpu backend: correctness of tfjs's kernel and the tiled WGSL one against a float64
// product (odd shapes, transposes, broadcast batches), then GFLOP/s of both at square sizes.
import * as tf from "@tensorflow/tfjs-core";
import { setTiledMatmulEnabled, tiledMatmulCalls } from "../../runtime/backend/wgsl/matmul-tiled.ts";
import { maxRelErr, median, randomF32, record, secondsLeft, sync } from "./common.ts";

type Kernel = "tfjs" | "tiled";
const KERNELS: Kernel[] = ["tfjs", "tiled"];

export interface Case {
  batch: number;
  m: number;
  k: number;
  n: number;
  ta: boolean;
  tb: boolean;
  /** false: that operand is one matrix broadcast over the batch */
  aBatched: boolean;
  bBatched: boolean;
}

export const CASES: Case[] = [
  { batch: 1, m: 67, k: 129, n: 131, ta: false, tb: false, aBatched: true, bBatched: true },
  { batch: 3, m: 130, k: 70, n: 257, ta: true, tb: false, aBatched: true, bBatched: true },
  { batch: 2, m: 129, k: 333, n: 65, ta: false, tb: true, aBatched: true, bBatched: false },
  { batch: 2, m: 300, k: 64, n: 290, ta: true, tb: true, aBatched: false, bBatched: true },
  { batch: 1, m: 1000, k: 257, n: 515, ta: false, tb: false, aBatched: true, bBatched: true },
];

/** Float64 C[z, i, j] for the sampled (or all) output positions. */
function reference(c: Case, a: Float32Array, b: Float32Array, idx: number[]): Float64Array {
  const { m, k, n } = c;
  const out = new Float64Array(idx.length);
  idx.forEach((flat, t) => {
    const z = Math.floor(flat / (m * n));
    const i = Math.floor((flat % (m * n)) / n);
    const j = flat % n;
    const aOff = c.aBatched ? z * m * k : 0;
    const bOff = c.bBatched ? z * k * n : 0;
    let s = 0;
    for (let p = 0; p < k; p++)
      s += a[aOff + (c.ta ? p * m + i : i * k + p)]! * b[bOff + (c.tb ? j * k + p : p * n + j)]!;
    out[t] = s;
  });
  return out;
}

function shapes(c: Case): [number[], number[]] {
  const a = c.ta ? [c.k, c.m] : [c.m, c.k];
  const b = c.tb ? [c.n, c.k] : [c.k, c.n];
  return [c.aBatched ? [c.batch, ...a] : a, c.bBatched ? [c.batch, ...b] : b];
}

export async function checkCase(c: Case, kernel: Kernel, seed: number, samples: number | null): Promise<void> {
  const [as, bs] = shapes(c);
  const a = randomF32(as.reduce((x, y) => x * y, 1), seed);
  const b = randomF32(bs.reduce((x, y) => x * y, 1), seed + 1);
  const at = tf.tensor(a, as);
  const bt = tf.tensor(b, bs);
  setTiledMatmulEnabled(kernel === "tiled");
  const before = tiledMatmulCalls();
  const y = tf.matMul(at, bt, c.ta, c.tb);
  const got = (await y.data()) as Float32Array;
  const used = tiledMatmulCalls() > before ? "tiled" : "tfjs";
  const total = c.batch * c.m * c.n;
  // all outputs, or `samples` spread over the output by a golden-ratio stride
  const idx = Array.from({ length: samples ?? total }, (_, i) => (samples === null ? i : Math.floor(((i * 0.6180339887) % 1) * total)));
  const ref = reference(c, a, b, idx);
  const err = maxRelErr(
    idx.map((i) => got[i]!),
    ref,
  );
  const name = `${c.batch}x${c.m}x${c.k}x${c.n}${c.ta ? " tA" : ""}${c.tb ? " tB" : ""}${c.aBatched && c.bBatched ? "" : " bcast"} ${kernel}`;
  record({ section: "matmul-check", name, err, tol: 1e-5, note: used === kernel ? "" : `ran ${used}` });
  tf.dispose([at, bt, y]);
}

export async function matmulCorrectness(quick: boolean): Promise<void> {
  let seed = 11;
  for (const c of CASES) for (const kernel of KERNELS) await checkCase(c, kernel, (seed += 7), null);
  if (!quick)
    for (const kernel of KERNELS)
    await checkCase({ batch: 1, m: 2048, k: 2048, n: 2048, ta: false, tb: false, aBatched: true, bBatched: true }, kernel, 99, 512);
  setTiledMatmulEnabled(true);
}

/** Median ms of one n x n x n product over 3 trials of `reps` back-to-back products. */
export async function timeSquare(n: number, kernel: Kernel, maxReps: number): Promise<number> {
  setTiledMatmulEnabled(kernel === "tiled");
  const a = tf.tensor(randomF32(n * n, n), [n, n]);
  const b = tf.tensor(randomF32(n * n, n + 1), [n, n]);
  const warm = tf.matMul(a, b);
  await sync(warm);
  warm.dispose();
  // enough products per trial (~20 TFLOP, at most maxReps) that launch and sync latency do not count
  const reps = Math.max(3, Math.min(maxReps, Math.ceil(2e13 / (2 * n * n * n))));
  const trials: number[] = [];
  for (let t = 0; t < 3; t++) {
    const t0 = performance.now();
    let last: tf.Tensor | null = null;
    for (let r = 0; r < reps; r++) {
      last?.dispose();
      last = tf.matMul(a, b);
    }
    await sync(last!);
    trials.push((performance.now() - t0) / reps);
    last!.dispose();
  }
  tf.dispose([a, b]);
  setTiledMatmulEnabled(true);
  return median(trials);
}

export async function matmulSpeed(sizes: number[], peakTflops: number | null, maxReps = 200): Promise<void> {
  for (const n of sizes)
    for (const kernel of KERNELS) {
      if (secondsLeft() < 20) {
        record({ section: "matmul-speed", name: `${n}^3 ${kernel}`, note: "skipped: out of time" });
        continue;
      }
      const ms = await timeSquare(n, kernel, maxReps);
      const gflops = (2 * n * n * n) / (ms * 1e6);
      const note = peakTflops ? `${((gflops / (peakTflops * 1000)) * 100).toFixed(1)}% of ${peakTflops} TFLOP/s fp32 peak` : "";
      record({ section: "matmul-speed", name: `${n}^3 ${kernel}`, ms, rate: gflops, unit: "GFLOP/s", note });
    }
}
