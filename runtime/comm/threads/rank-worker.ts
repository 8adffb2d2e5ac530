// Body of one rank's worker thread: attach to the shared groups, import the entry module, run
// rankMain, and report its result or error (raising the job abort flag first, so peers wake at once).
import { parentPort, workerData } from "node:worker_threads";
import type { Communicator } from "../communicator.ts";
import type { RankContext } from "../context.ts";
import { SoloCommunicator } from "../solo.ts";
import { JobView } from "./job.ts";
import { ring, type GroupShared } from "./layout.ts";
import { serializeError, type FromWorker, type WorkerInit } from "./protocol.ts";
import { ThreadCommunicator } from "./thread-communicator.ts";

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error("rank-worker.ts must run in a worker thread started by launchRanks");
const send = (m: FromWorker): void => port.postMessage(m);
const job = new JobView(init.job);
const opts = { timeoutMs: init.timeoutMs, checkLabels: init.checkLabels };
const groups = [init.world, init.spGroup, init.dpGroup].filter((g): g is GroupShared => g !== null);

function attach(name: string, shared: GroupShared | null): Communicator {
  return shared === null ? new SoloCommunicator(name, init.rank) : new ThreadCommunicator(shared, init.rank, job, opts);
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
  const value: unknown = await (mod.rankMain as (c: RankContext, a: unknown) => Promise<unknown>)(ctx, init.args);
  send({ type: "result", rank: init.rank, value });
} catch (e) {
  job.abort(init.rank);
  for (const g of groups) ring(new Int32Array(g.control));
  send({ type: "error", rank: init.rank, error: serializeError(e), activity: job.describe(init.rank) });
}
