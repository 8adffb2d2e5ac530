// Run under mpirun (test/mpi/collectives.test.ts): every collective of the MPI Communicator with uneven
// counts on the world, SP and DP groups, results and byte counters checked against plain loops here.
// Prints one JSON line per rank: {rank, failures: string[], bytes, checks}.
import type { Communicator } from "../../../runtime/comm/communicator.ts";
import { loadMpi } from "../../../runtime/comm/mpi/binding.ts";
import { mpiFinalize, mpiRankContext } from "../../../runtime/comm/mpi/context.ts";
import { defaultMpiCollectives } from "../../../runtime/comm/mpi/mpi-communicator.ts";

const [sp, dp] = [Number(process.argv[2]), Number(process.argv[3])];
const ctx = await mpiRankContext(sp, dp, { timeoutMs: 20_000 });
const failures: string[] = [];
let checks = 0;

function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  checks++;
  if (got.length !== want.length) return void failures.push(`${what}: length ${got.length}, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 1e-3 * Math.max(1, Math.abs(want[i]!))) {
      return void failures.push(`${what}: [${i}] = ${got[i]}, want ${want[i]}`);
    }
  }
}
const range = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));
const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Every collective on one group, several in flight at once, waited out of order. */
async function exercise(c: Communicator, tag: string): Promise<void> {
  const W = c.size;
  const r = c.rank;
  c.resetByteCounts();
  const val = (rank: number, i: number): number => rank * 1000 + i + 0.25;

  const agCounts = range(W, (q) => (q * 3 + 2) % 5).map(Number);
  const ag = Array.from(agCounts);
  const rsCounts = Array.from({ length: W }, (_, q) => (q % 2 === 0 ? 7 : 3));
  const n = 1001;
  const a2a = (from: number, to: number): number => ((2 * from + to) % 3) + (from === to ? 1 : 0);
  const sendCounts = Array.from({ length: W }, (_, j) => a2a(r, j));
  const recvCounts = Array.from({ length: W }, (_, j) => a2a(j, r));
  const next = (r + 1) % W;
  const prev = (r - 1 + W) % W;
  const ringLen = (q: number): number => 5 + q;

  // start all, then wait in reverse order: the ops are truly non-blocking and independent
  const hAg = c.startAllGather(
    range(ag[r]!, (i) => val(r, i)),
    `${tag}.ag`,
    ag,
  );
  const hRs = c.startReduceScatter(
    range(total(rsCounts), (i) => val(r, i)),
    `${tag}.rs`,
    rsCounts,
  );
  const hAr = c.startAllReduce(
    range(n, (i) => val(r, i)),
    `${tag}.ar`,
  );
  const hA2a = c.startAllToAll(
    Float32Array.from(sendCounts.flatMap((k, j) => Array.from({ length: k }, (_, i) => r * 10000 + j * 100 + i))),
    `${tag}.a2a`,
    sendCounts,
    recvCounts,
  );
  const hRing = c.startSendRecv(
    range(ringLen(r), (i) => val(r, i)),
    next,
    prev,
    ringLen(prev),
    `${tag}.ring`,
  );
  const hChain = c.startSendRecv(
    r < W - 1 ? range(3, (i) => val(r, i)) : null,
    r < W - 1 ? r + 1 : null,
    r > 0 ? r - 1 : null,
    3,
    `${tag}.chain`,
  );

  check(`${tag} chain`, await hChain.wait(), r > 0 ? range(3, (i) => val(r - 1, i)) : []);
  check(
    `${tag} ring`,
    await hRing.wait(),
    range(ringLen(prev), (i) => val(prev, i)),
  );
  check(
    `${tag} all_to_all`,
    await hA2a.wait(),
    recvCounts.flatMap((k, j) => Array.from({ length: k }, (_, i) => j * 10000 + r * 100 + i)),
  );
  check(
    `${tag} all_reduce`,
    await hAr.wait(),
    range(n, (i) => total(Array.from({ length: W }, (_, q) => val(q, i)))),
  );
  const off = total(rsCounts.slice(0, r));
  check(
    `${tag} reduce_scatter`,
    await hRs.wait(),
    range(rsCounts[r]!, (i) => total(Array.from({ length: W }, (_, q) => val(q, off + i)))),
  );
  check(
    `${tag} all_gather`,
    await hAg.wait(),
    ag.flatMap((k, q) => Array.from({ length: k }, (_, i) => val(q, i))),
  );
  await c.barrier(`${tag}.barrier`);

  // a large equal all_gather (1 MiB per rank) through the default-count path
  const big = 1 << 18;
  const gathered = await c
    .startAllGather(
      range(big, (i) => (r + 1) * ((i % 97) + 1)),
      `${tag}.big`,
    )
    .wait();
  checks++;
  for (let q = 0; q < W; q++) {
    if (gathered[q * big + 12345] !== (q + 1) * ((12345 % 97) + 1))
      failures.push(`${tag} big all_gather: part ${q} wrong`);
  }

  const want = {
    all_gather: 4 * (total(ag) - ag[r]! + (W - 1) * big),
    reduce_scatter: 4 * (W - 1) * rsCounts[r]!,
    // ring reduce-scatter + all-gather: parts of n split with the first n % W one larger
    all_reduce: 4 * (n + (W - 2) * (Math.floor(n / W) + (r < n % W ? 1 : 0))),
    all_to_all: 4 * (total(recvCounts) - recvCounts[r]!),
    send_recv: 4 * ((prev !== r ? ringLen(prev) : 0) + (r > 0 ? 3 : 0)), // never from itself
    barrier: 0,
  };
  const got = c.bytesReceived();
  checks++;
  if (JSON.stringify(got) !== JSON.stringify(want))
    failures.push(`${tag} bytes ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

async function expectThrows(what: string, f: () => unknown, pattern: RegExp): Promise<void> {
  checks++;
  try {
    await f();
    failures.push(`${what}: did not throw`);
  } catch (e) {
    if (!pattern.test(String((e as Error).message))) failures.push(`${what}: threw ${String(e)}`);
  }
}

await exercise(ctx.world, "world");
await exercise(ctx.sp, "sp");
await exercise(ctx.dp, "dp");

// mesh layout: SP groups are consecutive world ranks, DP groups stride sp
const spOf = await ctx.sp.startAllGather(Float32Array.of(ctx.rank), "mesh.sp").wait();
const dpOf = await ctx.dp.startAllGather(Float32Array.of(ctx.rank), "mesh.dp").wait();
const spIndex = ctx.rank % sp;
const dpIndex = Math.floor(ctx.rank / sp);
check(
  "mesh sp ranks",
  spOf,
  range(sp, (s) => dpIndex * sp + s),
);
check(
  "mesh dp ranks",
  dpOf,
  range(dp, (d) => d * sp + spIndex),
);
check("mesh group ranks", [ctx.sp.rank, ctx.dp.rank, ctx.world.size], [spIndex, dpIndex, sp * dp]);

// all_reduces on two groups waited in opposite orders on neighbouring ranks: completes because the
// pollers progress every request, whatever this rank waits on first
const hSp = ctx.sp.startAllReduce(Float32Array.of(1, ctx.rank), "x.sp");
const hDp = ctx.dp.startAllReduce(Float32Array.of(2, ctx.rank), "x.dp");
const spFirst = (spIndex + dpIndex) % 2 === 0;
let xs: Float32Array;
let xd: Float32Array;
if (spFirst) {
  xs = await hSp.wait();
  xd = await hDp.wait();
} else {
  xd = await hDp.wait();
  xs = await hSp.wait();
}
check("cross-group sp all_reduce", xs, [sp, total(Array.from({ length: sp }, (_, s) => dpIndex * sp + s))]);
check("cross-group dp all_reduce", xd, [2 * dp, total(Array.from({ length: dp }, (_, d) => d * sp + spIndex))]);

// the blocking entry points of the binding agree with the non-blocking ones
const mpi = loadMpi();
const out = new Float32Array(4);
mpi.allreduce(0, Float32Array.of(1, ctx.rank, 2, 3), out);
const W = ctx.world.size;
check("blocking allreduce", out, [W, (W * (W - 1)) / 2, 2 * W, 3 * W]);
mpi.barrier(0);

// empty vectors: nothing to move, still a collective every rank completes
const W0 = ctx.world.size;
check("empty all_reduce", await ctx.world.startAllReduce(new Float32Array(0), "empty.ar").wait(), []);
check(
  "empty all_gather",
  await ctx.world.startAllGather(new Float32Array(0), "empty.ag", new Array<number>(W0).fill(0)).wait(),
  [],
);

// progress without wait(): the poller started with the op completes it while JS only sleeps
const bg = ctx.world.startAllGather(
  range(1 << 18, (i) => i),
  "progress.bg",
);
const t0 = performance.now();
while (mpi.pendingCount() > 0 && performance.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 5));
check("completed before wait() was called", [mpi.pendingCount()], [0]);
check("background all_gather", (await bg.wait()).subarray(W * (1 << 18) - 3), [
  (1 << 18) - 3,
  (1 << 18) - 2,
  (1 << 18) - 1,
]);

// argument errors are CommErrors thrown at start, before MPI sees them
await expectThrows(
  "all_gather count mismatch",
  () => ctx.world.startAllGather(new Float32Array(3), "bad.ag", new Array(W).fill(2)),
  /data has 3 elements/,
);
await expectThrows(
  "send to a rank outside the group",
  () => ctx.world.startSendRecv(new Float32Array(1), W, null, 0, "bad.sr"),
  /not a rank/,
);
await expectThrows(
  "native buffer check",
  () => mpi.iallgatherv(0, new Float32Array(1), new Float32Array(1), new Array(W).fill(1)),
  W > 1 ? /outside the buffer/ : /^$/,
);

checks++;
if (mpi.pendingCount() !== 0) failures.push(`${mpi.pendingCount()} requests still pending`);
ctx.post({ failures, checks, mode: defaultMpiCollectives(), bytes: ctx.world.bytesReceived() });
mpiFinalize();
