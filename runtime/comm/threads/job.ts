// Job-wide shared state of a worker-thread launch: the abort flag every wait checks, one doorbell per
// rank (it sleeps on it), and what each rank is doing, so a dead or stuck rank can be named precisely.
import { LABEL_CHARS, kindCode, kindName, readLabel, writeLabel } from "./layout.ts";
import type { CollectiveKind } from "../communicator.ts";

const ABORT = 0;
const ABORT_RANK = 1;
/** ranks whose entry module is loaded */
const READY = 2;
const HEADER = 4;
const A = { STATE: 0, KIND: 1, GROUP: 2, LABEL_LEN: 3 } as const;
const REC = 4 + LABEL_CHARS / 2;

export type Phase = "idle" | "start" | "wait";
const PHASES: readonly Phase[] = ["idle", "start", "wait"];

export function createJob(world: number): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + world * (1 + REC)) * 4);
}

/** A view of the job state (one per thread). */
export class JobView {
  readonly i32: Int32Array;
  private readonly u16: Uint16Array;
  readonly world: number;
  private readonly acts: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.world = (this.i32.length - HEADER) / (1 + REC);
    this.acts = HEADER + this.world;
  }

  /** Int32 index of world rank r's doorbell: bumped and notified whenever something r may wait for happens. */
  bellAt(rank: number): number {
    return HEADER + rank;
  }

  ring(rank: number): void {
    const at = HEADER + rank;
    Atomics.add(this.i32, at, 1);
    Atomics.notify(this.i32, at);
  }

  ringAll(): void {
    for (let r = 0; r < this.world; r++) this.ring(r);
  }

  aborted(): boolean {
    return Atomics.load(this.i32, ABORT) !== 0;
  }

  /** World rank that failed first, or -1. */
  abortRank(): number {
    return this.aborted() ? Atomics.load(this.i32, ABORT_RANK) : -1;
  }

  /** Raise the abort flag; the first caller's rank is kept. Returns true for the first caller. */
  abort(rank: number): boolean {
    const first = Atomics.compareExchange(this.i32, ABORT, 0, 1) === 0;
    if (first) Atomics.store(this.i32, ABORT_RANK, rank);
    this.ringAll();
    return first;
  }

  /**
   * Start line: count this rank as loaded, then sleep until every rank is (or the job aborts), so that
   * module loading, which can take seconds per thread, never eats into a collective's timeout.
   */
  arriveAndWaitAll(limitMs: number): "go" | "aborted" | { loaded: number } {
    Atomics.add(this.i32, READY, 1);
    Atomics.notify(this.i32, READY);
    const t0 = performance.now();
    for (;;) {
      const n = Atomics.load(this.i32, READY);
      if (n >= this.world) return "go";
      if (this.aborted()) return "aborted";
      if (performance.now() - t0 > limitMs) return { loaded: n };
      Atomics.wait(this.i32, READY, n, 50);
    }
  }

  setActivity(rank: number, phase: Phase, kind: CollectiveKind, group: string, label: string): void {
    const at = this.acts + rank * REC;
    this.i32[at + A.KIND] = kindCode(kind);
    this.i32[at + A.GROUP] = group === "world" ? 0 : group === "sp" ? 1 : 2;
    writeLabel(this.i32, this.u16, at + A.LABEL_LEN, label);
    Atomics.store(this.i32, at + A.STATE, PHASES.indexOf(phase));
  }

  setIdle(rank: number): void {
    Atomics.store(this.i32, this.acts + rank * REC + A.STATE, 0);
  }

  /** e.g. "waiting in all_gather 'L3.state' on sp" or "computing after all_gather 'L3.state' on sp". */
  describe(rank: number): string {
    const at = this.acts + rank * REC;
    const label = readLabel(this.i32, this.u16, at + A.LABEL_LEN);
    if (label === "" && this.i32[at + A.KIND] === 0 && this.i32[at + A.STATE] === 0)
      return "before its first collective";
    const what = `${kindName(this.i32[at + A.KIND] ?? 0)} '${label}' on ${["world", "sp", "dp"][this.i32[at + A.GROUP] ?? 0]}`;
    const phase = PHASES[Atomics.load(this.i32, at + A.STATE)] ?? "idle";
    return phase === "start" ? `starting ${what}` : phase === "wait" ? `waiting in ${what}` : `computing after ${what}`;
  }
}
