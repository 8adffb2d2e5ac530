// Body of one rank's worker thread: attach to the shared groups, import the entry module, run
// rankMain, and report its result or error (raising the job abort flag first, so peers wake at once).
import { parentPort, workerData } from "node:worker_threads";
import { CommError, type Communicator } from "../communicator.ts";
import type { RankContext } from "../context.ts";
import { DeviceClock, setActiveDeviceClock } from "../device-clock.ts";
import { EmulatedLinkCommunicator } from "../link-emulator.ts";
import { SoloCommunicator } from "../solo.ts";
import { JobView } from "./job.ts";
import type { GroupShared } from "./layout.ts";
import { serializeError, type FromWorker, type WorkerInit } from "./protocol.ts";
import { ThreadCommunicator } from "./thread-communicator.ts";
import { Waiter } from "./waiter.ts";

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error("rank-worker.ts must run in a worker thread started by launchRanks");
const send = (m: FromWorker): void => port.postMessage(m);
const job = new JobView(init.job);
const START_LIMIT_MS = 120_000;
const opts = { timeoutMs: init.timeoutMs, checkLabels: init.checkLabels };
// one waiter per rank: a wait on any group drives the pending ops of all three
const waiter = new Waiter(job, init.rank, init.timeoutMs);
// emulated devices: the rank's virtual clock, its slot given up whenever the waiter sleeps
const clock =
  init.devices === null ? null : new DeviceClock(init.devices.gate, init.rank, () => (job.aborted() ? job.abortRank() : null), init.timeoutMs);
waiter.useClock(clock);
setActiveDeviceClock(clock);

// the rank's one emulated link, shared by its groups
const link = { freeAt: 0 };

function attach(name: string, shared: GroupShared | null): Communicator {
  if (shared === null) return new SoloCommunicator(name, init.rank);
  const c = new ThreadCommunicator(shared, init.rank, job, opts, waiter);
  return init.link !== null && shared.linkBoard !== undefined ? new EmulatedLinkCommunicator(c, shared.linkBoard, shared.members, init.link, clock, link) : c;
}

const ctx: RankContext = {
  rank: init.rank,
  world: attach("world", init.world),
  sp: attach("sp", init.spGroup),
  dp: attach("dp", init.dpGroup),
  post: (msg) => send({ type: "post", rank: init.rank, msg }),
};

try {
  const mod = (await import(init.entry)) as { rankMain?: unknown };
  if (typeof mod.rankMain !== "function") throw new Error(`${init.entry} does not export a rankMain function`);
  // loading can be slow (tsx, tfjs) on a busy machine: the start line gets a generous limit of its own
  const startLimitMs = Math.max(init.timeoutMs, START_LIMIT_MS);
  const start = job.arriveAndWaitAll(startLimitMs);
  if (start === "aborted") {
    const culprit = job.abortRank();
    throw new CommError(`rank ${init.rank}: aborted before start because rank ${culprit} failed`, init.rank, "start", {
      aborted: true,
      culprit,
    });
  }
  if (start !== "go") {
    const msg = `rank ${init.rank}: only ${start.loaded} of ${job.world} ranks loaded ${init.entry} within ${startLimitMs} ms`;
    throw new CommError(msg, init.rank, "start");
  }
  clock?.acquire();
  const value: unknown = await (mod.rankMain as (c: RankContext, a: unknown) => Promise<unknown>)(ctx, init.args);
  clock?.release();
  send({ type: "result", rank: init.rank, value });
} catch (e) {
  clock?.release();
  job.abort(init.rank);
  send({ type: "error", rank: init.rank, error: serializeError(e), activity: job.describe(init.rank) });
}
