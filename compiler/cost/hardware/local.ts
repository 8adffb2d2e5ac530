// The `local` profile: this machine measured, not assumed. The runtime's float32 matmul rate (our SIMD kernel on
// the wasm backend, runtime/kernels/simd) and tfjs's per-op cost,
// elementwise bandwidth, shared-memory copy bandwidth and a worker-thread wake-up latency (~1 s in all),
// cached in os.tmpdir() per host/CPU/Node so later runs read the file. Loads tfjs only when it measures.
import { existsSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { HardwareProfile } from "./profile.ts";

/** What the benchmark measured; the profile is derived from it (localProfile). */
export interface LocalMeasurement {
  readonly key: string;
  readonly measuredAt: string;
  /** float32 FLOP/s of a [2048,128] x [128,128] product by the runtime's matMul on wasm (one thread) */
  readonly matmulFlops: number;
  /** float32 FLOP/s of the runtime's causal softmax-attention forward + backward (32 heads, 256 tokens, d 16, block 64) */
  readonly attentionFlops: number;
  /** float32 FLOP/s of the runtime's causal linear-attention la_intra + la_bwd_intra with a per-head decay (4 heads, 2048 tokens, d 32, block 64) */
  readonly linearAttentionFlops: number;
  /** seconds of one tiny tfjs op (dispatch cost) */
  readonly opSeconds: number;
  /** bytes/s a tfjs add moves (2 reads + 1 write of float32) */
  readonly elementwiseBandwidth: number;
  /** FLOP/s of the runtime's RMSNorm and SwiGLU, forward + backward, on [8192, 128] (FLOPs as flops.ts counts them) */
  readonly elementwiseFlops: number;
  /** bytes/s of a TypedArray copy into a SharedArrayBuffer (what the thread transport does) */
  readonly copyBandwidth: number;
  /** seconds for one Atomics.notify -> wake of another thread, one way */
  readonly wakeLatency: number;
  readonly cores: number;
  readonly totalMemory: number;
  /**
   * per plan op, measured / modelled time of the runtime's own steps (calibrateOps): one rank of each
   * calibration plan run alone, op by op, against what the rates above give for the same steps
   */
  readonly opScale?: Readonly<Record<string, number>>;
  /** seconds per byte of the comm_start / comm_wait steps' own work (the same calibration) */
  readonly commStepSecondsPerByte?: number;
  /** what the calibration ran, for the profile's sources */
  readonly calibration?: string;
}

// v5: the matmul rate is the runtime's own matMul (the SIMD kernel), no longer tf.matMul
// v6: the linear-attention kernels get their own rate (they run near the matmul rate, softmax attention does not);
// every rate is the best of its runs, not the median
// v7: the elementwise rate is measured on the runtime's own norm and SwiGLU (it was add bandwidth / 12, 5-7x
// below what those kernels reach), and the add is timed without reading its result back
// v8: no timing reads its result back (the ops are synchronous on wasm)
// v9: per-op calibration (opScale): the runtime's own one-rank steps, op by op, against the rates
// v10: the wasm backend's Slice copies only the slice (runtime/backend/wasm-slice.ts): softmax attention and
// every blocked kernel that slices got faster, so v9's per-op factors no longer hold
// v11: softmax attention's exp runs on our SIMD kernel (runtime/kernels/simd/exp.ts)
export const CACHE_FILE = join(os.tmpdir(), "lasp-local-profile-v11.json");

function hostKey(): string {
  const cpu = os.cpus()[0]?.model ?? "cpu";
  return `${os.hostname()}|${cpu}|${os.availableParallelism()}|${process.version}`;
}

/**
 * Fastest of `reps` runs of `fn` after one warm-up: the rate the machine reaches undisturbed. A median
 * moved by 30% between two measurements a minute apart on this shared 2-core machine; the best run did not.
 */
function timeIt(fn: () => void, reps: number): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

async function measureTfjs(): Promise<
  Pick<LocalMeasurement, "matmulFlops" | "attentionFlops" | "linearAttentionFlops" | "opSeconds" | "elementwiseBandwidth" | "elementwiseFlops">
> {
  const tf = await import("@tensorflow/tfjs-core");
  const { initBackend } = await import("../../../runtime/backend/index.ts");
  await initBackend("wasm");
  // the projection shape of the models this machine can train ([B*C, D] x [D, D], D 128): big GEMMs run
  // faster, but local specs are small. tidy walks a returned value element by element: return nothing
  const [rows, n] = [2048, 128];
  const a = tf.randomNormal([rows, n]);
  const b = tf.randomNormal([n, n]);
  const { matMul } = await import("../../../runtime/kernels/simd/matmul.ts");
  // tfjs-wasm finishes an op before returning: the timings read nothing back (a read-back of the result
  // cost as much as a third of the linear-attention call at these sizes, and a step does not pay it)
  const mm = timeIt(() => tf.tidy(() => void matMul(a, b)), 5);
  // the runtime's own softmax-attention kernels, causal forward + backward, FLOPs counted as flops.ts counts
  // them (visible pairs only): the rate therefore includes the masked half-tiles the kernel still computes
  const { saForward } = await import("../../../runtime/kernels/softmax-attention.ts");
  const { saBackward } = await import("../../../runtime/kernels/softmax-attention-backward.ts");
  const [BH, C, dh] = [32, 256, 16];
  const qa = tf.randomNormal([BH, C, dh]) as import("@tensorflow/tfjs-core").Tensor3D;
  const pos = Int32Array.from({ length: C }, (_, i) => i);
  const opts = { causal: true, block: 64, groups: 1 };
  const att = timeIt(
    () =>
      tf.tidy(() => {
        const f = saForward(qa, qa, qa, pos, pos, opts);
        void saBackward(qa, qa, qa, f.o, f.lse, qa, pos, pos, opts);
      }),
    3,
  );
  const pairs = (C * (C + 1)) / 2;
  // the linear-attention kernels that dominate a linear layer (la_intra, la_bwd_intra), at the widths local
  // specs use; FLOPs as flops.ts counts them (laIntra: the within-block half plus 4 BH C dk dv across blocks)
  const { laIntra, laBwdIntra } = await import("../../../runtime/kernels/linear-attention.ts");
  const [lbh, lc, ld, lb] = [4, 2048, 32, 64];
  const lq = tf.randomNormal([lbh, lc, ld], 0, 0.2);
  const lopts = { causal: true, block: lb, lambdas: Float32Array.of(0.99, 0.95, 0.9, 0.8), segLens: [lc] };
  const lin = timeIt(
    () =>
      tf.tidy(() => {
        void laIntra(lq, lq, lq, null, lopts);
        void laBwdIntra(lq, lq, lq, null, lq, lopts);
      }),
    3,
  );
  const intraFlops = 2 * lbh * lc * lb * (2 * ld) * 0.5 + 4 * lbh * lc * ld * ld;
  const s = tf.randomNormal([4, 4]);
  const reps = 200;
  const op =
    timeIt(
      () =>
        tf.tidy(() => {
          let x = s;
          for (let i = 0; i < reps; i++) x = tf.add(x, s);
          x.dataSync();
        }),
      5,
    ) / reps;
  const big = 1 << 22;
  const x = tf.randomNormal([big]);
  const add = timeIt(() => tf.tidy(() => void tf.add(x, x)), 5);
  const { rmsNorm, rmsNormBackward } = await import("../../../runtime/kernels/norm.ts");
  const { swiglu, swigluBackward } = await import("../../../runtime/kernels/dense.ts");
  const [er, ec] = [8192, 128];
  const ex = tf.randomNormal([er, ec]) as import("@tensorflow/tfjs-core").Tensor2D;
  const ew = tf.ones([ec]) as import("@tensorflow/tfjs-core").Tensor1D;
  const elem = timeIt(
    () =>
      tf.tidy(() => {
        void rmsNorm(ex, ew, 1e-5);
        void rmsNormBackward(ex, ew, ex, 1e-5);
        void swiglu(ex, ex);
        void swigluBackward(ex, ex, ex);
      }),
    5,
  );
  const elemFlops = er * ec * (5 + 10 + 5 + 10); // flops.ts: norm 5, norm_bwd 10, swiglu 5, swiglu_bwd 10 per element
  tf.dispose([a, b, qa, lq, s, x, ex, ew]);
  return {
    matmulFlops: (2 * rows * n * n) / mm,
    attentionFlops: (2 * BH * pairs * (2 * dh) + 2 * BH * pairs * (5 * dh)) / att, // flops.ts: sa_forward + sa_backward
    linearAttentionFlops: (3 * intraFlops) / lin, // flops.ts: la_intra + la_bwd_intra (twice la_intra)
    opSeconds: op,
    elementwiseBandwidth: (3 * 4 * big) / add,
    elementwiseFlops: elemFlops / elem,
  };
}

function measureCopy(): number {
  const n = 1 << 22; // 16 MiB of float32
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(new SharedArrayBuffer(4 * n));
  return (4 * n) / timeIt(() => dst.set(src), 9);
}

/** One-way wake latency: ping-pong through Atomics with a worker thread, half the round trip. */
async function measureWake(): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const flag = new Int32Array(sab);
  const rounds = 200;
  const code = `const { workerData } = require("node:worker_threads");
const f = new Int32Array(workerData.sab);
for (let i = 0; i < workerData.rounds; i++) {
  Atomics.wait(f, 0, 0); Atomics.store(f, 0, 0); Atomics.store(f, 1, 1); Atomics.notify(f, 1);
}`;
  const w = new Worker(code, { eval: true, workerData: { sab, rounds } });
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    Atomics.wait(flag, 1, 0, 1000);
    Atomics.store(flag, 1, 0);
  }
  const rt = (performance.now() - t0) / 1000 / rounds;
  await w.terminate();
  return rt / 2;
}

/** The calibration runs: one-layer models (compiler/cost/one-layer.ts, the benchmarks' model) on 4 ranks. */
const CALIBRATION = {
  ranks: 4,
  linear: { seq: 32768, methods: ["lasp2", "lasp1", "ring"] },
  softmax: { seq: 2048, methods: ["lasp2h", "ring", "ulysses"] },
  reps: 3,
} as const;

/**
 * Per-op calibration: runs the last SP rank (the one with the most causal work) of each calibration plan
 * alone (runtime/exec/calibrate.ts: no peers, no waits), op by op, and divides each op's measured time by
 * what `base` models for the same steps. The rates above come from a few kernels at one shape; a step
 * also spends time in ops they do not cover (the loss, layout copies, the cross-chunk products of ring).
 */
async function calibrateOps(base: HardwareProfile): Promise<{ opScale: Record<string, number>; commStepSecondsPerByte: number; calibration: string }> {
  const { parseSpec } = await import("../../../dsl/index.ts");
  const { compile } = await import("../../index.ts");
  const { stepWork, stepSeconds } = await import("../simulate-compute.ts");
  const { timeRankOps } = await import("../../../runtime/exec/calibrate.ts");
  const { oneLayerSpecText, ONE_LAYER_MODEL } = await import("../one-layer.ts");
  const measured = new Map<string, number>();
  const modelled = new Map<string, number>();
  let commSeconds = 0;
  let commBytes = 0;
  for (const kind of ["linear", "softmax"] as const) {
    for (const method of CALIBRATION[kind].methods) {
      const c = CALIBRATION[kind];
      const text = oneLayerSpecText({ kind, method, seq: c.seq, ranks: CALIBRATION.ranks, overlap: true, model: ONE_LAYER_MODEL });
      const parsed = parseSpec(text, "calibration.lasp");
      const plan = parsed.spec === undefined ? null : compile(parsed.spec, { source: { file: "calibration.lasp", text } }).plan;
      if (plan === null) throw new Error(`local profile: the calibration spec does not compile:\n${text}`);
      const rank = plan.mesh.sp - 1;
      const steps = [...plan.forward, ...plan.backward, ...plan.gradSync];
      stepWork(plan, rank).forEach((w, i) => {
        const op = steps[i]!.op;
        if (op === "comm_start" || op === "comm_wait") commBytes += w.bytes;
        else modelled.set(op, (modelled.get(op) ?? 0) + stepSeconds(op, w, base, "fp32"));
      });
      const t = await timeRankOps(plan, rank, CALIBRATION.reps);
      for (const [op, sec] of t.perOp) measured.set(op, (measured.get(op) ?? 0) + sec);
      commSeconds += t.commSeconds;
    }
  }
  const opScale: Record<string, number> = {};
  for (const [op, m] of [...measured].sort((a, b) => b[1] - a[1])) {
    const mod = modelled.get(op) ?? 0;
    if (mod > 0 && m > 0) opScale[op] = Math.min(20, Math.max(0.05, m / mod));
  }
  const L = CALIBRATION.linear;
  const S = CALIBRATION.softmax;
  return {
    opScale,
    commStepSecondsPerByte: commBytes > 0 ? commSeconds / commBytes : 0,
    calibration: `last rank of one-layer hidden-128 models on ${CALIBRATION.ranks} ranks, alone: linear ${L.methods.join("/")} at ${L.seq} tokens, softmax ${S.methods.join("/")} at ${S.seq}, median of ${CALIBRATION.reps} steps`,
  };
}

/** Runs the benchmark (a few seconds) and writes the cache. */
export async function measureLocal(): Promise<LocalMeasurement> {
  const t = await measureTfjs();
  const raw: LocalMeasurement = {
    key: hostKey(),
    measuredAt: new Date().toISOString(),
    ...t,
    copyBandwidth: measureCopy(),
    wakeLatency: await measureWake(),
    cores: os.availableParallelism(),
    totalMemory: os.totalmem(),
  };
  const m: LocalMeasurement = { ...raw, ...(await calibrateOps(localProfile(raw))) };
  const tmp = `${CACHE_FILE}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(m, null, 2));
  renameSync(tmp, CACHE_FILE);
  return m;
}

/** The cached measurement of this host, or null when missing or taken on another host/CPU/Node. */
export function cachedLocal(): LocalMeasurement | null {
  if (!existsSync(CACHE_FILE)) return null;
  try {
    const m = JSON.parse(readFileSync(CACHE_FILE, "utf8")) as LocalMeasurement;
    return m.key === hostKey() && typeof m.elementwiseFlops === "number" ? m : null;
  } catch {
    return null;
  }
}

// A wasm32 heap holds at most 4 GiB: one tfjs-wasm rank can never use more, whatever the machine has.
const WASM_HEAP = 4 * 2 ** 30;

/** The profile of this machine from a measurement. Each rank is one worker thread on one core. */
export function localProfile(m: LocalMeasurement): HardwareProfile {
  const link = { bandwidth: m.copyBandwidth, latency: m.wakeLatency };
  return {
    name: "local",
    description: `this machine (${m.cores} cores, measured ${m.measuredAt}); ranks are worker threads that share the cores`,
    devicesPerNode: Infinity,
    memoryBytes: WASM_HEAP,
    sharedMemoryBytes: m.totalMemory,
    peakFlops: { fp32: m.matmulFlops, bf16: m.matmulFlops },
    matmulEfficiency: 1,
    attentionEfficiency: Math.min(1, m.attentionFlops / m.matmulFlops),
    linearAttentionEfficiency: Math.min(1, m.linearAttentionFlops / m.matmulFlops),
    memoryBandwidth: m.elementwiseBandwidth,
    elementwiseFlops: m.elementwiseFlops,
    opOverhead: m.opSeconds,
    callOverhead: m.opSeconds,
    collectives: "shared",
    p2p: "eager",
    computeUnits: m.cores,
    intra: link,
    inter: { nicsPerNode: 1, nicBandwidth: m.copyBandwidth, latency: m.wakeLatency },
    ...(m.opScale !== undefined ? { opScale: m.opScale } : {}),
    ...(m.commStepSecondsPerByte !== undefined ? { commStepSecondsPerByte: m.commStepSecondsPerByte } : {}),
    sources: [
      `measured on this host, cached in ${CACHE_FILE}: float32 [2048,128]x[128,128] matMul (the runtime's, wasm) ${(m.matmulFlops / 1e9).toFixed(2)} GFLOP/s, ` +
        `softmax-attention kernel ${(m.attentionFlops / 1e9).toFixed(2)} GFLOP/s, ` +
        `linear-attention kernels ${(m.linearAttentionFlops / 1e9).toFixed(2)} GFLOP/s, tiny op ${(m.opSeconds * 1e6).toFixed(1)} us, ` +
        `add ${(m.elementwiseBandwidth / 1e9).toFixed(2)} GB/s, norm + SwiGLU ${(m.elementwiseFlops / 1e9).toFixed(2)} GFLOP/s, SharedArrayBuffer copy ${(m.copyBandwidth / 1e9).toFixed(2)} GB/s, ` +
        `thread wake ${(m.wakeLatency * 1e6).toFixed(1)} us`,
      ...(m.opScale !== undefined
        ? [
            `per-op calibration (measured / modelled): ${Object.entries(m.opScale)
              .map(([op, k]) => `${op} ${k.toFixed(2)}`)
              .join(", ")}; comm steps' own work ${((m.commStepSecondsPerByte ?? 0) * 1e9).toFixed(3)} s/GB${m.calibration !== undefined ? ` (${m.calibration})` : ""}`,
          ]
        : []),
      "bf16 is not a tfjs-wasm type: the local profile computes at the float32 rate whatever --dtype says",
      "memory per rank: min(4 GiB wasm32 heap, machine memory / ranks)",
    ],
  };
}

/** The local profile: the cached measurement when there is one for this host, else measured now. */
export async function loadLocalProfile(opts: { refresh?: boolean } = {}): Promise<HardwareProfile> {
  const m = opts.refresh === true ? null : cachedLocal();
  return localProfile(m ?? (await measureLocal()));
}
