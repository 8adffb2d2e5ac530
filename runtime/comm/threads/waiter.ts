// The one blocking loop of a rank: sleep on the rank's doorbell in short Atomics.wait slices, drive
// every pending op of all its communicators between slices, turn an abort or a timeout into a CommError.
import { CommError } from "../communicator.ts";
import type { DeviceClock } from "../device-clock.ts";
import type { JobView } from "./job.ts";

/** What a blocked rank is waiting for, computed only when an error message needs it. */
export type Describe = () => { label: string; what: string; missing: string };

export class Waiter {
  private readonly engines: (() => void)[] = [];
  private readonly bell: number;
  /** emulated devices: the rank gives its compute slot up while it sleeps here */
  private clock: DeviceClock | null = null;

  constructor(
    private readonly job: JobView,
    private readonly worldRank: number,
    private readonly timeoutMs: number,
    /** longest single sleep: bounds how late an abort is noticed even if no doorbell rings */
    private readonly sliceMs = 50,
  ) {
    this.bell = job.bellAt(worldRank);
  }

  /**
   * Register a communicator's non-blocking progress function. Every blocking call of the rank drives
   * all of them, so waits in any order, on any group, cannot deadlock on a peer's second phase.
   */
  add(progress: () => void): void {
    this.engines.push(progress);
  }

  useClock(clock: DeviceClock | null): void {
    this.clock = clock;
  }

  /** Block until `ready()` returns true. */
  until(ready: () => boolean, describe: Describe): void {
    const i32 = this.job.i32;
    let t0 = -1;
    let gaveUp = false;
    for (;;) {
      const bell = Atomics.load(i32, this.bell);
      for (const p of this.engines) p();
      if (ready()) {
        if (gaveUp) this.clock!.acquire();
        return;
      }
      this.checkAbort(describe);
      const now = performance.now();
      if (t0 < 0) t0 = now;
      const left = this.timeoutMs - (now - t0);
      if (left <= 0) {
        const d = describe();
        throw new CommError(
          `rank ${this.worldRank}: timeout after ${this.timeoutMs} ms in ${d.what}: ${d.missing} (launchRanks option timeoutMs)`,
          this.worldRank,
          d.label,
        );
      }
      if (this.clock?.holding === true) {
        this.clock.release();
        gaveUp = true;
      }
      Atomics.wait(i32, this.bell, bell, Math.min(this.sliceMs, left));
    }
  }

  checkAbort(describe: Describe): void {
    if (!this.job.aborted()) return;
    const d = describe();
    const culprit = this.job.abortRank();
    throw new CommError(
      `rank ${this.worldRank}: aborted in ${d.what} because rank ${culprit} failed`,
      this.worldRank,
      d.label,
      {
        aborted: true,
        culprit,
      },
    );
  }
}
