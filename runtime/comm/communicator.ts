// The communicator interface every transport implements (worker threads over SharedArrayBuffer,
// MPI processes). Kernels and the executor see only this: a transport slots in without touching them.

/** Collective kinds, matching the plan's comm ops. */
export type CollectiveKind = "all_gather" | "reduce_scatter" | "all_reduce" | "all_to_all" | "send_recv" | "barrier";

/** A started collective. `wait()` resolves with the result; it may be called once. */
export interface CommHandle<T = Float32Array> {
  readonly kind: CollectiveKind;
  /** the plan step id (or a label) that started it, for error messages */
  readonly label: string;
  wait(): Promise<T>;
}

/** Bytes this rank received, per collective kind, since the counters were last reset. */
export type ByteCounts = Record<CollectiveKind, number>;

/**
 * One rank's view of one group (an SP group, a DP group, or the world). Every method is SPMD:
 * all ranks of the group call the same collectives in the same order, with the same sizes
 * where a size must agree (all_gather: equal parts unless `counts` says otherwise).
 *
 * Each collective is split in start / wait so the plan's overlap is real: `start*` publishes this
 * rank's contribution and returns at once; `wait()` blocks until the others' parts are there.
 * A wait longer than the transport's timeout, or a peer that died, rejects with a CommError.
 */
export interface Communicator {
  readonly rank: number;
  readonly size: number;
  /** a name such as "sp", "dp", "world" used in messages */
  readonly name: string;

  /**
   * Concatenation of every rank's `data` in rank order. `counts[r]` is rank r's element count
   * when parts differ in length (uneven chunks); omitted = all equal to data.length.
   */
  startAllGather(data: Float32Array, label: string, counts?: readonly number[]): CommHandle;

  /**
   * `data` holds `size` consecutive parts (part r has counts[r] elements, default equal);
   * the result is the elementwise sum over ranks of part `rank`.
   */
  startReduceScatter(data: Float32Array, label: string, counts?: readonly number[]): CommHandle;

  /** Elementwise sum over ranks. */
  startAllReduce(data: Float32Array, label: string): CommHandle;

  /**
   * `data` holds `size` parts, part j (sendCounts[j] elements) goes to rank j; the result is the
   * concatenation, in rank order, of the part each rank sent to this one (recvCounts[j] elements from j).
   */
  startAllToAll(
    data: Float32Array,
    label: string,
    sendCounts?: readonly number[],
    recvCounts?: readonly number[],
  ): CommHandle;

  /**
   * Point to point: send `data` to rank `to` (or nothing when to is null) and receive
   * `recvCount` elements from rank `from` (or nothing when from is null; the result is then empty).
   */
  startSendRecv(
    data: Float32Array | null,
    to: number | null,
    from: number | null,
    recvCount: number,
    label: string,
  ): CommHandle;

  barrier(label: string): Promise<void>;

  /** Bytes received by this rank per collective kind. */
  bytesReceived(): ByteCounts;
  resetByteCounts(): void;
}

/** Every communication failure: a timeout, a dead peer, a size mismatch. Names rank and label. */
export class CommError extends Error {
  override name = "CommError";
  constructor(
    message: string,
    readonly rank: number,
    readonly label: string,
    readonly cause_?: unknown,
  ) {
    super(message);
  }
}

export function zeroByteCounts(): ByteCounts {
  return { all_gather: 0, reduce_scatter: 0, all_reduce: 0, all_to_all: 0, send_recv: 0, barrier: 0 };
}

/** Adds `b` into `into`, kind by kind. */
export function addByteCounts(into: ByteCounts, b: ByteCounts): void {
  for (const k of Object.keys(into) as (keyof ByteCounts)[]) into[k] += b[k];
}
