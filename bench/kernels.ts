// Achieved GFLOP/s of the single-rank attention kernels against the float32 matmul peak of the same backend
// (a large tf.matMul timed the same way): linear attention (laState, laIntra, laInter and the backward
// pieces) and softmax attention (saForward, saBackward). FLOP counts as in compiler/cost/flops.ts.
// Run: npx tsx bench/kernels.ts [--quick] [--reps 5] [--backend wasm]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, type BackendName } from "../runtime/backend/index.ts";
import { laBwdInter, laBwdIntra, laBwdState, laInter, laIntra, laState, type LaOpts } from "../runtime/kernels/linear-attention.ts";
import { saBackward, saForward } from "../runtime/kernels/softmax-attention.ts";
import { matMul, simdMatMulActive } from "../runtime/kernels/simd/matmul.ts";
import { finish, flags, machine, machineLine, median, table, writeJson, type Machine } from "./lib/stats.ts";

const f = flags(process.argv.slice(2), { quick: "boolean", reps: "string", backend: "string", out: "string", from: "string" });
const quick = f.has("quick");
const reps = Number(f.get("reps") ?? 3);
const out = (f.get("out") as string | undefined) ?? fileURLToPath(new URL(`./results/kernels${quick ? "-quick" : ""}.json`, import.meta.url));
const backend = f.has("from") ? "" : await initBackend(((f.get("backend") as string | undefined) ?? "wasm") as BackendName);

/** Median seconds of `run` (its result tensors are read back with dataSync, then disposed), after one warm-up. */
function time(run: () => tf.Tensor[]): number {
  const once = (): number => {
    const t0 = performance.now();
    const ts = run();
    for (const t of ts) t.dataSync();
    const dt = (performance.now() - t0) / 1000;
    for (const t of ts) t.dispose();
    return dt;
  };
  once();
  return median(Array.from({ length: reps }, once));
}

interface Row {
  group: string;
  kernel: string;
  shape: string;
  flops: number;
  seconds: number;
  gflops: number;
}
const rows: Row[] = [];
const add = (group: string, kernel: string, shape: string, flops: number, seconds: number): void => {
  rows.push({ group, kernel, shape, flops, seconds, gflops: flops / seconds / 1e9 });
  process.stderr.write(`  ${group} ${kernel} ${shape}: ${(flops / seconds / 1e9).toFixed(2)} GFLOP/s\n`);
};
const rand = (shape: number[], scale = 0.1): tf.Tensor => tf.mul(tf.randomNormal(shape, 0, 1, "float32", 7), scale);

/** Measures every kernel row (the matmul peak rows first). */
function measure(): Machine {
  const m = machine();
  process.stderr.write(`kernels: backend ${backend}; ${machineLine(m)}\n`);

  // Matmul peak: square products and the batched shape the attention kernels use most, by tfjs's own
  // matMul and by ours (runtime/kernels/simd, what the kernels call on CPU backends); the peak is the best.
  for (const n of quick ? [512] : [1024, 2048]) {
    const [a, b] = [rand([n, n]), rand([n, n])];
    add("matmul", "tf.matMul", `${n}x${n}x${n}`, 2 * n ** 3, time(() => [tf.matMul(a, b)]));
    if (simdMatMulActive()) add("matmul", "simd matMul", `${n}x${n}x${n}`, 2 * n ** 3, time(() => [matMul(a, b)]));
    tf.dispose([a, b]);
  }
  {
    const [bh, c, d] = quick ? [4, 512, 64] : [8, 1024, 64];
    const [a, b] = [rand([bh, c, d]), rand([bh, d, c])];
    add("matmul", "tf.matMul batched", `[${bh},${c},${d}]x[${bh},${d},${c}]`, 2 * bh * c * c * d, time(() => [tf.matMul(a, b)]));
    if (simdMatMulActive()) add("matmul", "simd matMul batched", `[${bh},${c},${d}]x[${bh},${d},${c}]`, 2 * bh * c * c * d, time(() => [matMul(a, b)]));
    tf.dispose([a, b]);
  }
  if (simdMatMulActive() && !quick) {
    // the state product's shape (K^T V over a long chunk): small output, long inner dimension, the fastest
    // shape our kernel has; in the peak so no kernel row can beat "100%"
    const [bh, c, d] = [8, 4096, 128];
    const [a, b] = [rand([bh, c, d]), rand([bh, c, d])];
    add("matmul", "simd matMul batched, A^T", `[${bh},${c},${d}]^T x [${bh},${c},${d}]`, 2 * bh * c * d * d, time(() => [matMul(a, b, true, false)]));
    tf.dispose([a, b]);
  }

  // Linear attention, causal, one segment (FLOP rules of compiler/cost/flops.ts: la_state, la_intra, ...).
  const laCases = quick
    ? [{ bh: 4, c: 1024, d: 32, block: 64 }]
    : [
        { bh: 8, c: 4096, d: 64, block: 64 },
        { bh: 8, c: 4096, d: 64, block: 128 },
        { bh: 8, c: 4096, d: 64, block: 256 },
        { bh: 8, c: 4096, d: 128, block: 128 },
      ];
  for (const { bh, c, d, block } of laCases) {
    const opts: LaOpts = { causal: true, block, lambdas: null, segLens: [c] };
    const [q, k, v, dO] = [rand([bh, c, d]), rand([bh, c, d]), rand([bh, c, d]), rand([bh, c, d])];
    const p = rand([1, bh, d, d]);
    const gs = rand([1, bh, d, d]);
    const shape = `BH ${bh} C ${c} d ${d} block ${block}`;
    const b = Math.min(block, c);
    const fState = 2 * bh * c * d * d;
    const fIntra = 2 * bh * c * b * (d + d) * 0.5 + (c > b ? 4 * bh * c * d * d : 0);
    const fInter = 2 * bh * c * d * d + bh * c * d;
    const tState = time(() => [laState(k, v, null, opts).m]);
    const tIntra = time(() => [laIntra(q, k, v, null, opts)]);
    const oIntra = laIntra(q, k, v, null, opts);
    const tInter = time(() => [laInter(q, p, oIntra, null, opts)]);
    add("linear", "laState", shape, fState, tState);
    add("linear", "laIntra", shape, fIntra, tIntra);
    add("linear", "laInter", shape, fInter, tInter);
    add("linear", "forward (sum)", shape, fState + fIntra + fInter, tState + tIntra + tInter);
    const tBState = time(() => [laBwdState(q, dO, null, opts)]);
    const tBIntra = time(() => {
      const g = laBwdIntra(q, k, v, null, dO, opts);
      return [g.dq, g.dk, g.dv];
    });
    const intra = laBwdIntra(q, k, v, null, dO, opts);
    const tBInter = time(() => {
      const g = laBwdInter(q, k, v, null, dO, p, gs, intra, opts);
      return [g.dq, g.dk, g.dv];
    });
    add("linear", "laBwdState", shape, fState, tBState);
    add("linear", "laBwdIntra", shape, 2 * fIntra, tBIntra);
    add("linear", "laBwdInter", shape, 6 * bh * c * d * d, tBInter);
    add("linear", "backward (sum)", shape, fState + 2 * fIntra + 6 * bh * c * d * d, tBState + tBIntra + tBInter);
    add("linear", "fwd+bwd", shape, 2 * fState + 3 * fIntra + fInter + 6 * bh * c * d * d, tState + tIntra + tInter + tBState + tBIntra + tBInter);
    tf.dispose([q, k, v, dO, p, gs, oIntra, intra.dq, intra.dk, intra.dv]);
  }

  // Softmax attention, causal: 2 BH pairs (dk + dv) forward, 2 BH pairs (2 dk + 3 dv) backward (flops.ts).
  const saCases = quick ? [{ bh: 4, c: 512, d: 32, block: 64 }] : [
    { bh: 4, c: 2048, d: 64, block: 64 },
    { bh: 4, c: 2048, d: 64, block: 128 },
    { bh: 4, c: 2048, d: 64, block: 256 },
  ];
  for (const { bh, c, d, block } of saCases) {
    const opts = { causal: true, block, groups: 1 };
    const [q, k, v, dO] = [rand([bh, c, d], 1), rand([bh, c, d], 1), rand([bh, c, d], 1), rand([bh, c, d])] as tf.Tensor3D[];
    const pos = Int32Array.from({ length: c }, (_, i) => i);
    const pairs = (c * (c + 1)) / 2;
    const shape = `BH ${bh} C ${c} d ${d} block ${block}`;
    const tF = time(() => {
      const r = saForward(q!, k!, v!, pos, pos, opts);
      return [r.o, r.lse];
    });
    const fw = saForward(q!, k!, v!, pos, pos, opts);
    const tB = time(() => {
      const g = saBackward(q!, k!, v!, fw.o, fw.lse, dO!, pos, pos, opts);
      return [g.dq, g.dk, g.dv];
    });
    add("softmax", "saForward", shape, 2 * bh * pairs * 2 * d, tF);
    add("softmax", "saBackward", shape, 2 * bh * pairs * 5 * d, tB);
    add("softmax", "fwd+bwd", shape, 2 * bh * pairs * 7 * d, tF + tB);
    tf.dispose([q!, k!, v!, dO!, fw.o, fw.lse]);
  }
  finish(m);
  return m;
}

// --from FILE: print the table of an earlier run's JSON without measuring
const from = f.get("from") as string | undefined;
const saved = from === undefined ? null : (JSON.parse(readFileSync(from, "utf8")) as { machine: Machine; rows: Row[]; reps: number; backend: string });
if (saved !== null) rows.push(...saved.rows);
const m = saved?.machine ?? measure();

const peak = Math.max(...rows.filter((r) => r.group === "matmul").map((r) => r.gflops));
/** the attention-shaped batched product: what tfjs-wasm gives the kernels' building blocks */
const batched = rows.find((r) => r.kernel === "tf.matMul batched")?.gflops ?? NaN;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const lines = rows.map((r) => [`${r.group.padEnd(7)} ${r.kernel}`, r.shape, (r.flops / 1e9).toFixed(2), (r.seconds * 1000).toFixed(1), r.gflops.toFixed(2), pct(r.gflops / peak), pct(r.gflops / batched)]);
const best = (kernel: string, group: string) => Math.max(...rows.filter((r) => r.group === group && r.kernel === kernel).map((r) => r.gflops / peak));
const laBest = best("fwd+bwd", "linear");
const report = [
  `lasp bench/kernels: single rank, one thread, backend ${saved?.backend ?? backend}, median of ${saved?.reps ?? reps} after one warm-up (outputs read back)`,
  machineLine(m),
  "",
  table(["kernel", "shape", "GFLOP", "ms", "GFLOP/s", "of peak", "of batched"], lines),
  "",
  `of peak: of the best matmul row (tfjs's or ours, square or batched), ${peak.toFixed(2)} GFLOP/s; of batched: of the attention-shaped batched tf.matMul, ${batched.toFixed(2)} GFLOP/s`,
  "(on CPU backends the kernels' products run on our SIMD matMul, runtime/kernels/simd; tfjs-wasm's own batched product is the 'batched' column).",
  "FLOPs are useful work (causal: the masked half of a tile is not counted).",
  `target: linear attention fwd+bwd >= 50% of the matmul peak at large sizes: ${laBest >= 0.5 ? "MET" : "NOT MET"} (best ${(laBest * 100).toFixed(0)}%)`,
].join("\n");
process.stdout.write(report + "\n");
if (saved === null) writeJson(out, { bench: "kernels", machine: m, backend, reps, peakGflops: peak, rows });
if (saved === null) process.stderr.write(`wrote ${out}\n`);
