// A started MPI operation as a CommHandle: wait() polls the native requests off the JS thread and turns
// a timeout or an MPI error into a CommError naming the rank, the group, the kind and the label.
import { CommError, type CollectiveKind, type CommHandle } from "../communicator.ts";
import type { MpiBinding } from "./binding.ts";

/** Who waits, for messages: world rank, group name and rank, the timeout in force. */
export interface WaitSite {
  readonly mpi: MpiBinding;
  readonly worldRank: number;
  readonly group: string;
  readonly groupRank: number;
  readonly timeoutMs: number;
}

export class MpiHandle implements CommHandle {
  private waited = false;

  constructor(
    readonly kind: CollectiveKind,
    readonly label: string,
    private readonly requests: readonly number[],
    private readonly result: Float32Array,
    private readonly site: WaitSite,
    /** what the wait is for, e.g. "the other ranks of the group" or "rank 2" */
    private readonly awaiting: string,
    private readonly onDone: () => void,
  ) {}

  async wait(): Promise<Float32Array> {
    const s = this.site;
    const where = `rank ${s.worldRank} (${s.group} rank ${s.groupRank})`;
    if (this.waited) throw new CommError(`${where}: ${this.kind} '${this.label}' waited twice`, s.worldRank, this.label);
    this.waited = true;
    const deadline = performance.now() + s.timeoutMs;
    for (const req of this.requests) {
      let done: boolean;
      try {
        done = await s.mpi.wait(req, Math.max(0, deadline - performance.now()));
      } catch (e) {
        throw new CommError(`${where}: ${this.kind} '${this.label}' failed: ${(e as Error).message}`, s.worldRank, this.label, e);
      }
      if (!done) {
        throw new CommError(
          `${where}: ${this.kind} '${this.label}' timed out after ${s.timeoutMs} ms waiting for ${this.awaiting} ` +
            `(a peer died, hangs, or called a different collective; LASP_COMM_TIMEOUT_MS sets the limit)`,
          s.worldRank,
          this.label,
        );
      }
    }
    this.onDone();
    return this.result;
  }
}
