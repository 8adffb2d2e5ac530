// Benchmark of the worker-thread transport: all_gather and all_reduce on 4 ranks x {64 KiB .. 16 MiB},
// time per call and GB/s (bytes received per rank / time). Run: npx tsx bench/comm.ts. Prints a table.
import { isMainThread } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import type { RankContext } from "../runtime/comm/context.ts";
import { launchRanks } from "../runtime/comm/threads/launch.ts";

interface BenchArgs {
  sizes: number[];
  reps: number;
}
interface Row {
  kind: "all_gather" | "all_reduce";
  /** bytes of the full (gathered / reduced) vector */
  bytes: number;
  /** median seconds per call, measured on this rank */
  seconds: number;
  /** bytes this rank received per call */
  received: number;
}

const KiB = 1024;
const MiB = KiB * KiB;

/** One rank of the benchmark: for each size and kind, a barrier then `reps` timed start/wait pairs. */
export async function rankMain(ctx: RankContext, args: BenchArgs): Promise<Row[]> {
  const c = ctx.world;
  const rows: Row[] = [];
  for (const bytes of args.sizes) {
    const n = bytes / 4;
    for (const kind of ["all_gather", "all_reduce"] as const) {
      const data = new Float32Array(kind === "all_gather" ? n / c.size : n).fill(c.rank + 1);
      const run = (): Promise<Float32Array> =>
        (kind === "all_gather"
          ? c.startAllGather(data, `${kind}.${bytes}`)
          : c.startAllReduce(data, `${kind}.${bytes}`)
        ).wait();
      await run(); // warm-up (page faults in the arena, JIT)
      const times: number[] = [];
      c.resetByteCounts();
      for (let k = 0; k < args.reps; k++) {
        await c.barrier(`b.${kind}.${bytes}.${k}`);
        const t0 = performance.now();
        await run();
        times.push((performance.now() - t0) / 1000);
      }
      times.sort((a, b) => a - b);
      rows.push({
        kind,
        bytes,
        seconds: times[Math.floor(times.length / 2)]!,
        received: c.bytesReceived()[kind] / args.reps,
      });
    }
  }
  return rows;
}

/** Median GB/s of one thread copying `bytes` from a SharedArrayBuffer into a fresh Float32Array (a receive). */
function memcpyBaseline(bytes: number, reps: number): number {
  const src = new Float32Array(new SharedArrayBuffer(bytes)).fill(1);
  const times: number[] = [];
  for (let k = 0; k <= reps; k++) {
    const t0 = performance.now();
    new Float32Array(bytes / 4).set(src);
    if (k > 0) times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return bytes / times[Math.floor(times.length / 2)]! / 1e9;
}

async function main(): Promise<void> {
  const W = 4;
  const sizes = [64 * KiB, MiB, 4 * MiB, 16 * MiB];
  const reps = Number(process.env.REPS ?? 7);
  const perRank = await launchRanks<Row[]>({
    sp: W,
    dp: 1,
    entry: new URL(import.meta.url),
    args: { sizes, reps },
    capacityBytes: 16 * MiB,
  });
  const copy = memcpyBaseline(16 * MiB, reps);
  const fmt = (b: number): string => (b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`);
  console.log(
    `worker-thread transport, ${W} ranks, median of ${reps} (slowest rank), GB/s = bytes received per rank / time`,
  );
  console.log("| collective | vector | received/rank | time (ms) | GB/s |");
  console.log("|---|---|---|---|---|");
  perRank[0]!.forEach((row, i) => {
    const slowest = Math.max(...perRank.map((rows) => rows[i]!.seconds));
    const gbps = row.received / slowest / 1e9;
    console.log(
      `| ${row.kind} | ${fmt(row.bytes)} | ${fmt(row.received)} | ${(slowest * 1e3).toFixed(3)} | ${gbps.toFixed(2)} |`,
    );
  });
  console.log(`baseline: one thread, SharedArrayBuffer -> new Float32Array, 16 MiB: ${copy.toFixed(2)} GB/s`);
}

if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await main();
