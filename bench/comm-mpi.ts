// MPI transport bandwidth: all_gather and all_reduce through MpiCommunicator (queued and non-blocking
// modes) next to the binding's blocking call on the JS thread; one table printed by rank 0. Run with
// OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np 4 node --import tsx bench/comm-mpi.ts
import { loadMpi } from "../runtime/comm/mpi/binding.ts";
import { mpiFinalize, mpiRankContext } from "../runtime/comm/mpi/context.ts";
import { defaultMpiTimeoutMs, MpiCommunicator } from "../runtime/comm/mpi/mpi-communicator.ts";

const SIZES = [64 << 10, 1 << 20, 4 << 20, 16 << 20];
const ctx = await mpiRankContext(Number(process.env["OMPI_COMM_WORLD_SIZE"] ?? 4), 1, { collectives: "queued" });
const mpi = loadMpi(); // blocking MPI calls of the binding: the baseline
const queued = ctx.world;
const nonblocking = new MpiCommunicator(mpi, 0, "world", {
  worldRank: ctx.rank,
  timeoutMs: defaultMpiTimeoutMs(),
  collectives: "nonblocking",
});
const W = queued.size;

/** Median over reps of the slowest rank's time (ms) for one call, after a barrier. */
async function time(run: () => Promise<unknown>, reps: number): Promise<number> {
  await run(); // warm-up: connection setup, page faults
  const mine: number[] = [];
  for (let i = 0; i < reps; i++) {
    await queued.barrier("bench.sync");
    const t0 = performance.now();
    await run();
    mine.push(performance.now() - t0);
  }
  const all = await queued.startAllGather(Float32Array.from(mine), "bench.times").wait();
  const slowest = mine.map((_, i) => Math.max(...Array.from({ length: W }, (_, r) => all[r * reps + i]!)));
  return slowest.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

// algbw: result bytes / time; busbw (NCCL's convention): what each rank's link carried / time
const gbs = (b: number, ms: number): string => (b / (ms * 1e6)).toFixed(2);
const rows: string[][] = [];
for (const bytes of SIZES) {
  const n = bytes / 4;
  const reps = bytes >= 16 << 20 ? 5 : bytes >= 4 << 20 ? 8 : 15;
  const part = new Float32Array(n).fill(ctx.rank + 1);
  const out = new Float32Array(W * n);
  const agQ = await time(() => queued.startAllGather(part, "bench.ag").wait(), reps);
  const agN = await time(() => nonblocking.startAllGather(part, "bench.ag").wait(), reps);
  const agB = await time(async () => mpi.allgatherv(0, part, out, new Array<number>(W).fill(n)), reps);
  // the same with a fresh result each call, as start* must return one: page faults of new memory
  const agA = await time(
    async () => mpi.allgatherv(0, part, new Float32Array(W * n), new Array<number>(W).fill(n)),
    reps,
  );
  const arQ = await time(() => queued.startAllReduce(part, "bench.ar").wait(), reps);
  const arN = await time(() => nonblocking.startAllReduce(part, "bench.ar").wait(), reps);
  const arB = await time(async () => mpi.allreduce(0, part, out), reps);
  const arA = await time(async () => mpi.allreduce(0, part, new Float32Array(n)), reps);
  const agBus = (W - 1) * bytes;
  const arBus = (2 * (W - 1) * bytes) / W;
  rows.push([
    "all_gather",
    fmt(bytes),
    ms(agQ),
    gbs(W * bytes, agQ),
    gbs(agBus, agQ),
    ms(agN),
    gbs(agBus, agN),
    ms(agB),
    ms(agA),
  ]);
  rows.push([
    "all_reduce",
    fmt(bytes),
    ms(arQ),
    gbs(bytes, arQ),
    gbs(arBus, arQ),
    ms(arN),
    gbs(arBus, arN),
    ms(arB),
    ms(arA),
  ]);
}

if (ctx.rank === 0) {
  const head = [
    "op",
    "per-rank",
    "queued ms",
    "algbw GB/s",
    "busbw GB/s",
    "nonblock ms",
    "busbw GB/s",
    "blocking ms",
    "+alloc ms",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(
    `MPI transport, ${W} ranks: start+wait, slowest rank, median of reps (blocking = MPI call on the JS thread into a reused buffer, +alloc = into a new one)`,
  );
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
