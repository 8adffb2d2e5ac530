// Typed view of the native Open MPI addon (native/src) and its loader: a missing or unloadable addon
// is a clear error telling how to build it, never a silent fallback to another transport.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** What `init()` reports about this process. */
export interface MpiInfo {
  rank: number;
  size: number;
  /** MPI_Query_thread; always MPI_THREAD_MULTIPLE (3 in Open MPI) once init() returned */
  threadLevel: number;
  host: string;
}

/**
 * The addon's functions. `comm` is a communicator id: 0 = MPI_COMM_WORLD, others from commSplit.
 * Buffers are used in place (no copy) and stay referenced by the addon until the request completes;
 * counts are element counts per rank, parts back to back in rank order.
 */
export interface MpiBinding {
  init(): MpiInfo;
  finalize(): void;
  /** MPI_Abort on MPI_COMM_WORLD: mpirun kills every rank and names this one; never returns */
  abort(code?: number): never;
  state(): "uninitialized" | "initialized" | "finalized";
  commRank(comm: number): number;
  commSize(comm: number): number;
  commSplit(comm: number, color: number, key: number): number;
  wtime(): number;

  iallgatherv(comm: number, send: Float32Array, recv: Float32Array, counts: readonly number[]): number;
  ireduceScatter(comm: number, send: Float32Array, recv: Float32Array, counts: readonly number[]): number;
  iallreduce(comm: number, send: Float32Array, recv: Float32Array): number;
  ialltoallv(
    comm: number,
    send: Float32Array,
    sendCounts: readonly number[],
    recv: Float32Array,
    recvCounts: readonly number[],
  ): number;
  isend(comm: number, buf: Float32Array, dest: number, tag: number): number;
  /** completes with an error unless exactly buf.length elements arrive */
  irecv(comm: number, buf: Float32Array, source: number, tag: number): number;
  ibarrier(comm: number): number;
  /** one MPI_Testall: true = complete (the request id is released) */
  test(request: number): boolean;
  /**
   * Polls MPI_Testall on a libuv worker, busy (yielding the core) for spinMs (default 50), then every
   * 50 us: true = complete (released), false = timed out (still pending, buffers still held)
   */
  wait(request: number, timeoutMs: number, spinMs?: number): Promise<boolean>;
  pendingCount(): number;

  /**
   * Queued collectives: the blocking MPI call (Open MPI's tuned algorithms) runs on the communicator's
   * own executor thread, in call order; a request id comes back at once, as for the i* functions.
   */
  qallgatherv(comm: number, send: Float32Array, recv: Float32Array, counts: readonly number[]): number;
  qreduceScatter(comm: number, send: Float32Array, recv: Float32Array, counts: readonly number[]): number;
  qallreduce(comm: number, send: Float32Array, recv: Float32Array): number;
  qalltoallv(
    comm: number,
    send: Float32Array,
    sendCounts: readonly number[],
    recv: Float32Array,
    recvCounts: readonly number[],
  ): number;
  qbarrier(comm: number): number;

  allgatherv(comm: number, send: Float32Array, recv: Float32Array, counts: readonly number[]): void;
  reduceScatter(comm: number, send: Float32Array, recv: Float32Array, counts: readonly number[]): void;
  allreduce(comm: number, send: Float32Array, recv: Float32Array): void;
  alltoallv(
    comm: number,
    send: Float32Array,
    sendCounts: readonly number[],
    recv: Float32Array,
    recvCounts: readonly number[],
  ): void;
  barrier(comm: number): void;
}

export const MPI_BUILD_HINT =
  "--transport mpi needs the MPI binding: apt-get install openmpi-bin libopenmpi-dev && npm run build:mpi";

/** Where `npm run build:mpi` puts the addon; LASP_MPI_BINDING overrides it. */
export function mpiBindingPath(): string {
  return (
    process.env["LASP_MPI_BINDING"] ??
    fileURLToPath(new URL("../../../native/build/Release/lasp_mpi.node", import.meta.url))
  );
}

let cached: MpiBinding | undefined;

/** Loads the addon once per process; throws an Error carrying MPI_BUILD_HINT when it cannot. */
export function loadMpi(): MpiBinding {
  if (cached) return cached;
  const path = mpiBindingPath();
  if (!existsSync(path)) throw new Error(`${MPI_BUILD_HINT} (no addon at ${path})`);
  try {
    cached = createRequire(import.meta.url)(path) as MpiBinding;
  } catch (e) {
    throw new Error(`${MPI_BUILD_HINT} (loading ${path} failed: ${(e as Error).message})`, { cause: e });
  }
  return cached;
}
