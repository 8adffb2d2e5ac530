// Communicator over MPI (one process per rank, under mpirun): start* posts a non-blocking MPI call on the
// caller's buffers (no copy: leave `data` unchanged until wait() resolves); a completed wait adds the bytes
// parts.ts says the rank received from others (all_reduce: ring reduce-scatter + all-gather, 2(W-1)/W).
import {
  CommError,
  zeroByteCounts,
  type ByteCounts,
  type CollectiveKind,
  type CommHandle,
  type Communicator,
} from "../communicator.ts";
import { badPeer, receivedBytes, resolveCounts } from "../parts.ts";
import type { MpiBinding } from "./binding.ts";
import { MpiHandle, type WaitSite } from "./handle.ts";

/** Tag of every send_recv message; MPI keeps messages between two ranks in order, as SPMD needs. */
const SEND_RECV_TAG = 17;

export interface MpiCommunicatorOptions {
  /** world rank of this process, for messages */
  worldRank: number;
  /** how long a wait may take before it rejects with a CommError */
  timeoutMs: number;
  /** how collectives run (default: LASP_MPI_COLLECTIVES, else "nonblocking") */
  collectives?: MpiCollectiveMode;
}

/**
 * "nonblocking" (default): MPI_Iallgatherv & co. (libnbc), progressed by the pollers from the start.
 * "queued": the blocking MPI collective (Open MPI's tuned algorithms) on the communicator's executor
 * thread, in start order. Both overlap with JS; on one 16-core node they measured alike, nonblocking
 * a little faster (native/README.md); queued may win across nodes, where the algorithm matters more.
 */
export type MpiCollectiveMode = "queued" | "nonblocking";

export function defaultMpiCollectives(): MpiCollectiveMode {
  const v = process.env["LASP_MPI_COLLECTIVES"];
  if (v === undefined || v === "" || v === "nonblocking") return "nonblocking";
  if (v === "queued") return v;
  throw new Error(`LASP_MPI_COLLECTIVES must be "nonblocking" or "queued", got "${v}"`);
}

type Starts = Pick<MpiBinding, "iallgatherv" | "ireduceScatter" | "iallreduce" | "ialltoallv" | "ibarrier">;

function startsOf(mpi: MpiBinding, mode: MpiCollectiveMode): Starts {
  if (mode === "nonblocking") return mpi;
  return {
    iallgatherv: (...a) => mpi.qallgatherv(...a),
    ireduceScatter: (...a) => mpi.qreduceScatter(...a),
    iallreduce: (...a) => mpi.qallreduce(...a),
    ialltoallv: (...a) => mpi.qalltoallv(...a),
    ibarrier: (...a) => mpi.qbarrier(...a),
  };
}

/** Default wait limit: LASP_COMM_TIMEOUT_MS, else 120 s. */
export function defaultMpiTimeoutMs(): number {
  const v = Number(process.env["LASP_COMM_TIMEOUT_MS"]);
  return Number.isFinite(v) && v > 0 ? v : 120_000;
}

export class MpiCommunicator implements Communicator {
  readonly rank: number;
  readonly size: number;
  private bytes: ByteCounts = zeroByteCounts();
  private readonly site: WaitSite;
  private readonly starts: Starts;

  /** `comm` is a communicator id of the binding (0 = world, or one from commSplit). */
  constructor(
    private readonly mpi: MpiBinding,
    private readonly comm: number,
    readonly name: string,
    opts: MpiCommunicatorOptions,
  ) {
    this.rank = mpi.commRank(comm);
    this.size = mpi.commSize(comm);
    this.site = { mpi, worldRank: opts.worldRank, group: name, groupRank: this.rank, timeoutMs: opts.timeoutMs };
    this.starts = startsOf(mpi, opts.collectives ?? defaultMpiCollectives());
  }

  startAllGather(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = this.counts("all_gather", label, counts, data.length);
    this.expect("all_gather", label, data.length, c[this.rank]!);
    const result = new Float32Array(sum(c));
    const req = this.post("all_gather", label, () => this.starts.iallgatherv(this.comm, data, result, c));
    return this.handle("all_gather", label, [req], result, receivedBytes.allGather(c, this.rank));
  }

  startReduceScatter(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = this.counts(
      "reduce_scatter",
      label,
      counts,
      this.equalPart("reduce_scatter", label, data.length, counts),
    );
    this.expect("reduce_scatter", label, data.length, sum(c));
    const result = new Float32Array(c[this.rank]!);
    const req = this.post("reduce_scatter", label, () => this.starts.ireduceScatter(this.comm, data, result, c));
    return this.handle("reduce_scatter", label, [req], result, receivedBytes.reduceScatter(c, this.rank));
  }

  /** Bytes counted as a ring reduce-scatter + all-gather: 2(W-1)/W of the vector (exact split in parts.ts). */
  startAllReduce(data: Float32Array, label: string): CommHandle {
    const result = new Float32Array(data.length);
    const req = this.post("all_reduce", label, () => this.starts.iallreduce(this.comm, data, result));
    return this.handle("all_reduce", label, [req], result, receivedBytes.allReduce(data.length, this.size, this.rank));
  }

  startAllToAll(
    data: Float32Array,
    label: string,
    sendCounts?: readonly number[],
    recvCounts?: readonly number[],
  ): CommHandle {
    const equal = this.equalPart("all_to_all", label, data.length, sendCounts);
    const s = this.counts("all_to_all", label, sendCounts, equal);
    const r = this.counts("all_to_all", label, recvCounts, equal);
    this.expect("all_to_all", label, data.length, sum(s));
    if (s[this.rank] !== r[this.rank]) {
      throw this.error(
        label,
        `all_to_all '${label}': sends ${s[this.rank]} elements to itself but expects ${r[this.rank]}`,
      );
    }
    const result = new Float32Array(sum(r));
    const req = this.post("all_to_all", label, () => this.starts.ialltoallv(this.comm, data, s, result, r));
    return this.handle("all_to_all", label, [req], result, receivedBytes.allToAll(r, this.rank));
  }

  startSendRecv(
    data: Float32Array | null,
    to: number | null,
    from: number | null,
    recvCount: number,
    label: string,
  ): CommHandle {
    const bad = badPeer(to, from, this.size);
    if (bad !== null) throw this.error(label, `send_recv '${label}': ${bad} is not a rank of a group of ${this.size}`);
    if (!(Number.isInteger(recvCount) && recvCount >= 0)) {
      throw this.error(label, `send_recv '${label}': recvCount ${recvCount} is not a non-negative integer`);
    }
    const result = new Float32Array(from === null ? 0 : recvCount);
    const reqs: number[] = [];
    if (from !== null)
      reqs.push(this.post("send_recv", label, () => this.mpi.irecv(this.comm, result, from, SEND_RECV_TAG)));
    if (to !== null) {
      const msg = data ?? new Float32Array(0);
      reqs.push(this.post("send_recv", label, () => this.mpi.isend(this.comm, msg, to, SEND_RECV_TAG)));
    }
    const awaiting = [
      from !== null ? `data from ${this.name} rank ${from}` : "",
      to !== null ? `rank ${to} to take ours` : "",
    ]
      .filter((x) => x)
      .join(" and ");
    return new MpiHandle("send_recv", label, reqs, result, this.site, awaiting || "nothing", () => {
      if (from !== this.rank) this.bytes.send_recv += 4 * result.length;
    });
  }

  async barrier(label: string): Promise<void> {
    const req = this.post("barrier", label, () => this.starts.ibarrier(this.comm));
    await this.handle("barrier", label, [req], new Float32Array(0), 0).wait();
  }

  bytesReceived(): ByteCounts {
    return { ...this.bytes };
  }

  resetByteCounts(): void {
    this.bytes = zeroByteCounts();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private handle(kind: CollectiveKind, label: string, reqs: number[], result: Float32Array, bytes: number): CommHandle {
    return new MpiHandle(kind, label, reqs, result, this.site, `the other ranks of the ${this.name} group`, () => {
      this.bytes[kind] += bytes;
    });
  }

  /** Runs the native start call; an MPI or argument error becomes a CommError. */
  private post(kind: CollectiveKind, label: string, start: () => number): number {
    try {
      return start();
    } catch (e) {
      throw this.error(label, `${kind} '${label}' could not start: ${(e as Error).message}`, e);
    }
  }

  private counts(kind: CollectiveKind, label: string, counts: readonly number[] | undefined, each: number): number[] {
    return resolveCounts(counts, this.size, each, { rank: this.site.worldRank, label, what: kind });
  }

  private equalPart(kind: CollectiveKind, label: string, n: number, counts: readonly number[] | undefined): number {
    const equal = n / this.size;
    if (counts === undefined && !Number.isInteger(equal)) {
      throw this.error(
        label,
        `${kind} '${label}': ${n} elements do not split into ${this.size} equal parts; pass counts`,
      );
    }
    return equal;
  }

  private expect(kind: CollectiveKind, label: string, got: number, want: number): void {
    if (got !== want) throw this.error(label, `${kind} '${label}': data has ${got} elements, counts say ${want}`);
  }

  private error(label: string, msg: string, cause?: unknown): CommError {
    return new CommError(
      `rank ${this.site.worldRank} (${this.name} rank ${this.rank}): ${msg}`,
      this.site.worldRank,
      label,
      cause,
    );
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
