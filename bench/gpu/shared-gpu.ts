// Several ranks on one GPU: each worker thread opens its own Dawn device (as worker ranks do) and
// times the same matmuls; aggregate GFLOP/s of 1 worker vs 2 shows whether devices add or take turns.
import * as tf from "@tensorflow/tfjs-core";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";
import { randomF32, record, sync } from "./common.ts";

interface Job {
  laspSharedGpu: true;
  n: number;
  reps: number;
}

/** In a worker started by sharedGpu(): runs the job and posts {ms} or {error}. */
export async function sharedGpuWorker(): Promise<boolean> {
  const job = workerData as Job | undefined;
  if (isMainThread || job?.laspSharedGpu !== true) return false;
  try {
    const r = await startWebGPU();
    if (!r.ok) throw new Error(r.reason);
    const a = tf.tensor(randomF32(job.n * job.n, 1), [job.n, job.n]);
    const b = tf.tensor(randomF32(job.n * job.n, 2), [job.n, job.n]);
    const w = tf.matMul(a, b);
    await sync(w);
    w.dispose();
    parentPort!.postMessage({ ready: true });
    await new Promise<void>((res) => parentPort!.once("message", () => res()));
    const t0 = performance.now();
    let last: tf.Tensor | null = null;
    for (let i = 0; i < job.reps; i++) {
      last?.dispose();
      last = tf.matMul(a, b);
    }
    await sync(last!);
    parentPort!.postMessage({ ms: performance.now() - t0 });
    await stopWebGPU();
  } catch (e) {
    parentPort!.postMessage({ error: String(e) });
  }
  return true;
}

async function runWorkers(count: number, job: Job, script: URL): Promise<number> {
  const ws = Array.from({ length: count }, () => new Worker(script, { workerData: job }));
  const next = (w: Worker): Promise<{ ready?: boolean; ms?: number; error?: string }> =>
    new Promise((res, rej) => {
      w.once("message", res);
      w.once("error", rej);
    });
  const ready = await Promise.all(ws.map(next));
  const bad = ready.find((m) => m.error);
  if (bad) throw new Error(bad.error);
  const t0 = performance.now();
  const done = ws.map(next);
  for (const w of ws) w.postMessage("go");
  const results = await Promise.all(done);
  const wall = performance.now() - t0;
  await Promise.all(ws.map((w) => w.terminate()));
  const err = results.find((m) => m.error);
  if (err) throw new Error(err.error);
  return wall;
}

/** Aggregate GFLOP/s of 1 and of 2 workers, each with its own device, on n^3 products. */
export async function sharedGpu(script: URL, n: number, reps: number): Promise<void> {
  const job: Job = { laspSharedGpu: true, n, reps };
  for (const count of [1, 2]) {
    const wall = await runWorkers(count, job, script);
    const gflops = (count * reps * 2 * n ** 3) / (wall * 1e6);
    record({
      section: "shared-gpu",
      name: `${count} worker(s), own device each, ${reps} x ${n}^3`,
      ms: wall,
      rate: gflops,
      unit: "GFLOP/s (sum)",
    });
  }
}
