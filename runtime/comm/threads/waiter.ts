// The one blocking loop of the transport: sleep on the group doorbell in short Atomics.wait slices,
// run progress between slices, and turn a job abort or an expired timeout into a CommError.
import { CommError } from "../communicator.ts";
import { BELL } from "./layout.ts";
import type { JobView } from "./job.ts";

/** What a blocked rank is waiting for, computed only when an error message needs it. */
export type Describe = () => { label: string; what: string; missing: string };

export class Waiter {
  constructor(
    private readonly ctrl: Int32Array,
    private readonly job: JobView,
    private readonly worldRank: number,
    private readonly timeoutMs: number,
    /** longest single sleep: bounds how late an abort is noticed */
    private readonly sliceMs = 50,
  ) {}

  /** Block until `ready()` (which may make progress) returns true. */
  until(ready: () => boolean, describe: Describe): void {
    if (ready()) return;
    const t0 = performance.now();
    for (;;) {
      const bell = Atomics.load(this.ctrl, BELL);
      if (ready()) return;
      this.checkAbort(describe);
      const left = this.timeoutMs - (performance.now() - t0);
      if (left <= 0) {
        const d = describe();
        throw new CommError(
          `rank ${this.worldRank}: timeout after ${this.timeoutMs} ms in ${d.what}: ${d.missing} (launchRanks option timeoutMs)`,
          this.worldRank,
          d.label,
        );
      }
      Atomics.wait(this.ctrl, BELL, bell, Math.min(this.sliceMs, left));
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
      { aborted: true, culprit },
    );
  }
}
