// Emulated devices for the thread transport: W ranks on fewer cores, each timed as if it ran on a device of
// its own. On one machine, ranks that outnumber the cores share them: a rank blocked in a wait hands its core
// to the others, so a schedule that idles ranks (LASP-1's chain, a wait that overlap would have hidden) costs
// less than it would on separate GPUs, and step times mix every rank's work.
//
// Here a gate (a counting semaphore in a SharedArrayBuffer, `slots` wide, default 1) lets at most that many
// ranks compute at once. A rank holds it while it computes and gives it up whenever its Waiter has to sleep
// (threads/waiter.ts: the one place a rank blocks). Each rank keeps a virtual clock that advances by the
// wall time it held the gate, and the link emulator (link-emulator.ts) stamps and waits in that clock: a
// collective started at virtual time t arrives at t + its modelled cost, and a wait sets the clock to the
// latest arrival it needs when that is later. The result is the step time each rank would see with a core of
// its own and the link modelled, from kernels timed on a quiet core. Data and numerics are the real run's.
import { CommError } from "./communicator.ts";

/** launchRanks option `devices`: cloned into every worker. */
export interface DeviceEmulation {
  /** ranks that may compute at once (1: each op runs alone on the machine) */
  readonly slots: number;
}

/** What a worker gets: the emulation and the shared gate. */
export interface DeviceInit extends DeviceEmulation {
  readonly gate: SharedArrayBuffer;
}

export function createGate(slots: number): SharedArrayBuffer {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`emulated devices: slots must be an integer >= 1, got ${slots}`);
  const gate = new SharedArrayBuffer(4);
  new Int32Array(gate)[0] = slots;
  return gate;
}

const wallMs = (): number => performance.now();
const SLICE_MS = 50;

/** One rank's virtual clock and its hold on the gate. */
export class DeviceClock {
  private readonly free: Int32Array;
  private held = false;
  private since = 0;
  /** virtual ms accumulated before the current hold */
  private base = 0;
  /** virtual ms spent waiting for communication (the clock moved to an arrival later than itself) */
  private waited = 0;

  constructor(
    gate: SharedArrayBuffer,
    private readonly rank: number,
    /** the job's abort flag and the rank that raised it (a dead holder never gives the gate back) */
    private readonly aborted: () => number | null,
    private readonly timeoutMs: number,
  ) {
    this.free = new Int32Array(gate);
  }

  get holding(): boolean {
    return this.held;
  }

  /** Takes a compute slot, sleeping while every slot is taken. */
  acquire(): void {
    if (this.held) return;
    const t0 = wallMs();
    for (;;) {
      const v = Atomics.load(this.free, 0);
      if (v > 0 && Atomics.compareExchange(this.free, 0, v, v - 1) === v) break;
      const culprit = this.aborted();
      if (culprit !== null)
        throw new CommError(`rank ${this.rank}: aborted while waiting for a compute slot because rank ${culprit} failed`, this.rank, "device gate", { aborted: true, culprit });
      const left = this.timeoutMs - (wallMs() - t0);
      if (left <= 0) throw new CommError(`rank ${this.rank}: timeout after ${this.timeoutMs} ms waiting for a compute slot of the emulated devices`, this.rank, "device gate");
      if (v <= 0) Atomics.wait(this.free, 0, v, Math.min(SLICE_MS, left));
    }
    this.held = true;
    this.since = wallMs();
  }

  /** Gives the slot back (no-op when not held); the time held is this rank's compute. */
  release(): void {
    if (!this.held) return;
    this.base += wallMs() - this.since;
    this.held = false;
    Atomics.add(this.free, 0, 1);
    Atomics.notify(this.free, 0, 1);
  }

  /** Virtual ms: compute so far plus waits. */
  nowMs(): number {
    return this.base + (this.held ? wallMs() - this.since : 0);
  }

  /** Moves the clock to `t` (virtual ms) when that is later: a wait for data that arrives then. */
  advanceTo(t: number): void {
    const now = this.nowMs();
    if (t <= now) return;
    this.base += t - now;
    this.waited += t - now;
  }

  /** Virtual ms spent waiting so far. */
  waitedMs(): number {
    return this.waited;
  }
}

const KEY = Symbol.for("lasp.deviceClock");

/** The clock of this thread's rank under emulated devices, else null (kept on globalThis: bundles may copy this module). */
export function activeDeviceClock(): DeviceClock | null {
  return ((globalThis as Record<symbol, unknown>)[KEY] as DeviceClock | undefined) ?? null;
}

export function setActiveDeviceClock(clock: DeviceClock | null): void {
  (globalThis as Record<symbol, unknown>)[KEY] = clock ?? undefined;
}
