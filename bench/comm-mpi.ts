// MPI transport bandwidth: all_gather and all_reduce through MpiCommunicator, one table printed by rank 0.
// Run: OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none \
//        -np 4 node --import tsx bench/comm-mpi.ts   (needs `npm run build:mpi`; sizes are per-rank bytes)
import { loadMpi } from "../runtime/comm/mpi/binding.ts";
import { mpiFinalize, mpiRankContext } from "../runtime/comm/mpi/context.ts";

const SIZES = [64 << 10, 1 << 20, 4 << 20, 16 << 20];
const ctx = await mpiRankContext(Number(process.env["BENCH_W"] ?? process.env["OMPI_COMM_WORLD_SIZE"] ?? 4), 1);
const world = ctx.world;
const W = world.size;
const mpi = loadMpi(); // blocking MPI calls of the binding: the baseline the start/wait path is compared with

/** Median over reps of the slowest rank's time (ms) for one start+wait, after a barrier. */
async function time(run: () => Promise<unknown>, reps: number): Promise<number> {
  await run(); // warm-up: connection setup, page faults
  const mine: number[] = [];
  for (let i = 0; i < reps; i++) {
    await world.barrier("bench.sync");
    const t0 = performance.now();
    await run();
    mine.push(performance.now() - t0);
  }
  const all = await world.startAllGather(Float32Array.from(mine), "bench.times").wait();
  const slowest = mine.map((_, i) => Math.max(...Array.from({ length: W }, (_, r) => all[r * reps + i]!)));
  return slowest.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

const rows: string[][] = [];
for (const bytes of SIZES) {
  const n = bytes / 4;
  const reps = bytes >= 16 << 20 ? 5 : bytes >= 4 << 20 ? 8 : 15;
  const part = new Float32Array(n).fill(ctx.rank + 1);
  const gathered = new Float32Array(W * n);
  const ag = await time(() => world.startAllGather(part, "bench.ag").wait(), reps);
  const agBlocking = await time(async () => mpi.allgatherv(0, part, gathered, new Array<number>(W).fill(n)), reps);
  const ar = await time(() => world.startAllReduce(part, "bench.ar").wait(), reps);
  const arBlocking = await time(async () => mpi.allreduce(0, part, gathered), reps);
  // algbw: result bytes / time; busbw (NCCL's convention): what each rank's link carried / time
  const gbs = (b: number, ms: number): string => (b / (ms * 1e6)).toFixed(2);
  rows.push(["all_gather", fmt(bytes), ms(ag), gbs(W * bytes, ag), gbs((W - 1) * bytes, ag), ms(agBlocking)]);
  rows.push(["all_reduce", fmt(bytes), ms(ar), gbs(bytes, ar), gbs((2 * (W - 1) * bytes) / W, ar), ms(arBlocking)]);
}

if (ctx.rank === 0) {
  const head = ["op", "per-rank size", "start+wait ms", "algbw GB/s", "busbw GB/s", "blocking MPI ms"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(`MPI transport, ${W} ranks (slowest rank, median of reps; algbw = result bytes / time)`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}
mpiFinalize();

function fmt(b: number): string {
  return b >= 1 << 20 ? `${b >> 20} MiB` : `${b >> 10} KiB`;
}
function ms(x: number): string {
  return x.toFixed(2);
}
