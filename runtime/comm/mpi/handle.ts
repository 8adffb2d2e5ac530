// A started MPI operation as a CommHandle. Progress starts at once: a libuv worker polls the requests
// while JS computes (real overlap), and wait() only races that against the timeout, so a dead or
// diverged peer ends in a CommError naming the rank, the group, the kind and the label.
import { CommError, type CollectiveKind, type CommHandle } from "../communicator.ts";
import type { MpiBinding } from "./binding.ts";

/** How long a poller busy-polls MPI (yielding the core) before it polls every 50 us: LASP_MPI_SPIN_MS. */
const SPIN_MS = Number(process.env["LASP_MPI_SPIN_MS"] ?? 50);
/** The poller's own limit; the wait's timeout is enforced in JS from the moment wait() is called. */
const POLL_LIMIT_MS = 24 * 3600_000;

/** Who waits, for messages: world rank, group name and rank, the timeout in force. */
export interface WaitSite {
  readonly mpi: MpiBinding;
  readonly worldRank: number;
  readonly group: string;
  readonly groupRank: number;
  readonly timeoutMs: number;
}

type Outcome = { ok: true } | { ok: false; error?: unknown };

export class MpiHandle implements CommHandle {
  private waited = false;
  private readonly progress: Promise<Outcome>;

  constructor(
    readonly kind: CollectiveKind,
    readonly label: string,
    requests: readonly number[],
    private readonly result: Float32Array,
    private readonly site: WaitSite,
    /** what the wait is for, e.g. "the other ranks of the group" or "data from sp rank 2" */
    private readonly awaiting: string,
    private readonly onDone: () => void,
  ) {
    // settled into a value, never a rejection: an error surfaces at wait(), not as an unhandled rejection
    this.progress = Promise.all(requests.map((r) => site.mpi.wait(r, POLL_LIMIT_MS, SPIN_MS))).then(
      (done): Outcome => (done.every((d) => d) ? { ok: true } : { ok: false }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
  }

  async wait(): Promise<Float32Array> {
    const s = this.site;
    const where = `rank ${s.worldRank} (${s.group} rank ${s.groupRank})`;
    if (this.waited)
      throw new CommError(`${where}: ${this.kind} '${this.label}' waited twice`, s.worldRank, this.label);
    this.waited = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), s.timeoutMs)));
    const out = await Promise.race([this.progress, timeout]);
    clearTimeout(timer);
    if (out === "timeout" || !out.ok) {
      const error = out === "timeout" ? undefined : out.error;
      const why =
        error !== undefined
          ? `failed: ${(error as Error).message}`
          : `timed out after ${s.timeoutMs} ms waiting for ${this.awaiting} ` +
            `(a peer died, hangs, or called a different collective; LASP_COMM_TIMEOUT_MS sets the limit)`;
      throw new CommError(`${where}: ${this.kind} '${this.label}' ${why}`, s.worldRank, this.label, error);
    }
    this.onDone();
    return this.result;
  }
}
