// launchRanks: run an SPMD job on sp x dp worker threads of this process, each with world / sp / dp
// communicators over shared memory; results in rank order, or ONE error naming the rank that failed.
import { Worker } from "node:worker_threads";
import { CommError } from "../communicator.ts";
import { meshGroups } from "../context.ts";
import { createJob, JobView } from "./job.ts";
import { createGate, type DeviceEmulation } from "../device-clock.ts";
import { createBoard, type LinkEmulation } from "../link-emulator.ts";
import { createGroup as createGroupLayout, type GroupShared } from "./layout.ts";
import type { FromWorker, SerializedError, WorkerInit } from "./protocol.ts";

export interface LaunchOptions {
  readonly sp: number;
  readonly dp: number;
  /** a .ts (or .js) module exporting `rankMain(ctx: RankContext, args): Promise<R>` */
  readonly entry: URL;
  /** structured-cloneable, handed to every rank */
  readonly args: unknown;
  /** a blocked wait longer than this fails the job (default 60 000 ms) */
  readonly timeoutMs?: number;
  /**
   * Arena bytes per rank per group, allocated at launch (default 64 MiB; pages are touched only
   * as used). Bounds one rank's in-flight contributions: the whole vector for all_reduce,
   * reduce_scatter and all_to_all, its own part for all_gather, each unreceived send.
   */
  readonly capacityBytes?: number;
  /** reject collectives whose labels differ across ranks (default true) */
  readonly checkLabels?: boolean;
  /** progress / metrics posted by ranks with ctx.post */
  readonly onMessage?: (rank: number, msg: unknown) => void;
  /** emulate a cluster interconnect: every collective takes at least its modelled time (link-emulator.ts) */
  readonly link?: LinkEmulation | null;
  /**
   * emulate a device per rank (device-clock.ts): ranks take turns on the cores and keep virtual clocks;
   * needs `link` (the collectives' modelled costs are what moves those clocks between ranks)
   */
  readonly devices?: DeviceEmulation | null;
  /**
   * After every rank has returned, how long to let the workers end on their own (their event loops
   * drained, native add-ons torn down by the worker itself) before terminating the rest (default 5 000 ms)
   */
  readonly exitGraceMs?: number;
  /**
   * After a rank failed (the others woken by the abort flag), how long to let the workers end on their own
   * before terminating the rest and rejecting (default 3 000 ms): terminating a worker inside a native call
   * (Dawn's) can abort the process
   */
  readonly failGraceMs?: number;
  /** each worker's exit code once it has ended: 0 when it ended on its own, 1 when terminated */
  readonly onExit?: (rank: number, code: number) => void;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CAPACITY_BYTES = 64 * 2 ** 20;
/** after the first failure, how long to wait for the culprit's own report before rejecting */
const REPORT_GRACE_MS = 2_000;
const TERMINATE_GRACE_MS = 3_000;
const EXIT_GRACE_MS = 5_000;
const FAIL_GRACE_MS = 3_000;

interface Failure {
  readonly rank: number;
  readonly message: string;
  readonly label: string;
  readonly aborted: boolean;
  readonly cause: unknown;
}

/** Shared state of all groups of an sp x dp mesh; groups of one rank get none (SoloCommunicator). */
function createGroups(
  sp: number,
  dp: number,
  capacityBytes: number,
  link: boolean,
): { world: GroupShared | null; sp: (GroupShared | null)[]; dp: (GroupShared | null)[] } {
  const createGroup = (name: string, members: readonly number[], cap: number): GroupShared => {
    const g = createGroupLayout(name, members, cap);
    return link ? { ...g, linkBoard: createBoard(members.length) } : g;
  };
  const W = sp * dp;
  const world =
    W > 1
      ? createGroup(
          "world",
          Array.from({ length: W }, (_, r) => r),
          capacityBytes,
        )
      : null;
  const spGroups = Array.from({ length: dp }, (_, d) =>
    sp > 1 ? createGroup("sp", meshGroups(d * sp, sp, dp).sp, capacityBytes) : null,
  );
  const dpGroups = Array.from({ length: sp }, (_, s) =>
    dp > 1 ? createGroup("dp", meshGroups(s, sp, dp).dp, capacityBytes) : null,
  );
  return { world, sp: spGroups, dp: dpGroups };
}

function describeError(rank: number, e: SerializedError, activity: string): string {
  if (e.name === "CommError") return e.message;
  const where = e.stack
    ?.split("\n")
    .find((l) => l.includes("    at "))
    ?.trim();
  return `rank ${rank} threw ${e.name}: ${e.message} (while ${activity})${where ? ` ${where}` : ""}`;
}

export async function launchRanks<R>(opts: LaunchOptions): Promise<R[]> {
  const { sp, dp } = opts;
  if (![sp, dp].every((n) => Number.isInteger(n) && n >= 1))
    throw new RangeError(`launchRanks: sp and dp must be integers >= 1, got sp=${sp} dp=${dp}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const capacityBytes = opts.capacityBytes ?? DEFAULT_CAPACITY_BYTES;
  const W = sp * dp;
  if (opts.devices != null && opts.link == null)
    throw new Error("launchRanks: emulated devices need a link emulation (option link): its modelled costs move the ranks' virtual clocks");
  const devices = opts.devices != null ? { ...opts.devices, gate: createGate(opts.devices.slots) } : null;
  const jobBuffer = createJob(W);
  const job = new JobView(jobBuffer);
  const groups = createGroups(sp, dp, capacityBytes, opts.link != null);
  const entryUrl = new URL("./worker-entry.mjs", import.meta.url);

  const results = new Array<R>(W);
  const finished = new Array<boolean>(W).fill(false);
  let remaining = W;
  const failures = new Map<number, Failure>();
  const workers: Worker[] = [];
  const exited: Promise<void>[] = [];

  return new Promise<R[]>((resolve, reject) => {
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const terminateAll = async (): Promise<void> => {
      const bound = new Promise<void>((r) => setTimeout(r, TERMINATE_GRACE_MS).unref());
      await Promise.race([Promise.allSettled(workers.map((w) => w.terminate())), bound]);
    };

    const finalize = (): void => {
      if (settled) return;
      settled = true;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      const culprit = failures.get(job.abortRank());
      const all = [...failures.values()];
      const chosen = culprit && !culprit.aborted ? culprit : (all.find((f) => !f.aborted) ?? culprit ?? all[0]!);
      const others = all.filter((f) => f !== chosen).length;
      const note = others > 0 ? ` [${others} other rank(s) stopped after it]` : "";
      // The peers were woken by the abort and end on their own at their next blocking point; a worker
      // terminated inside a native call (Dawn) can abort the whole process, so they get a moment first.
      const grace = new Promise<void>((r) => setTimeout(r, opts.failGraceMs ?? FAIL_GRACE_MS).unref());
      void Promise.race([Promise.all(exited), grace])
        .then(terminateAll)
        .then(() => reject(new CommError(chosen.message + note, chosen.rank, chosen.label, chosen.cause)));
    };

    const fail = (f: Failure): void => {
      if (settled || failures.has(f.rank)) return;
      failures.set(f.rank, f);
      // Wake every rank (abort rings all doorbells); each checks the flag at its next blocking point.
      job.abort(f.rank);
      const culprit = job.abortRank();
      if (failures.has(culprit) && !failures.get(culprit)!.aborted) finalize();
      else graceTimer ??= setTimeout(finalize, REPORT_GRACE_MS);
    };

    const onWorkerMessage = (m: FromWorker): void => {
      if (settled) return;
      if (m.type === "post") {
        try {
          opts.onMessage?.(m.rank, m.msg);
        } catch (e) {
          fail({
            rank: m.rank,
            message: `onMessage threw for a message of rank ${m.rank}: ${String(e)}`,
            label: "onMessage",
            aborted: false,
            cause: e,
          });
        }
      } else if (m.type === "result") {
        results[m.rank] = m.value as R;
        finished[m.rank] = true;
        if (--remaining === 0 && failures.size === 0) {
          settled = true;
          // A worker ends on its own once rankMain's work has drained; terminating one whose native
          // resources (a Dawn device) are still live is riskier than waiting a moment for it.
          const grace = new Promise<void>((r) => setTimeout(r, opts.exitGraceMs ?? EXIT_GRACE_MS).unref());
          void Promise.race([Promise.all(exited), grace])
            .then(terminateAll)
            .then(() => resolve(results));
        }
      } else {
        finished[m.rank] = true;
        fail({
          rank: m.rank,
          message: describeError(m.rank, m.error, m.activity),
          label: m.error.label ?? m.activity,
          aborted: m.error.aborted,
          cause: m.error,
        });
      }
    };

    for (let rank = 0; rank < W; rank++) {
      const mesh = { sp: rank % sp, dp: Math.floor(rank / sp) };
      const init: WorkerInit = {
        rank,
        sp,
        dp,
        entry: opts.entry.href,
        args: opts.args,
        timeoutMs,
        checkLabels: opts.checkLabels ?? true,
        job: jobBuffer,
        world: groups.world,
        spGroup: groups.sp[mesh.dp] ?? null,
        dpGroup: groups.dp[mesh.sp] ?? null,
        link: opts.link ?? null,
        devices,
      };
      const w = new Worker(entryUrl, { workerData: init });
      workers.push(w);
      let markExited: () => void = () => undefined;
      exited.push(new Promise<void>((r) => (markExited = r)));
      w.on("message", onWorkerMessage);
      w.on("error", (e) =>
        fail({
          rank,
          message: `rank ${rank} crashed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (while ${job.describe(rank)})`,
          label: job.describe(rank),
          aborted: false,
          cause: e,
        }),
      );
      w.on("exit", (code) => {
        opts.onExit?.(rank, code);
        markExited();
        if (!finished[rank])
          fail({
            rank,
            message: `rank ${rank} exited with code ${code} before returning (while ${job.describe(rank)})`,
            label: job.describe(rank),
            aborted: false,
            cause: code,
          });
      });
    }
  });
}
