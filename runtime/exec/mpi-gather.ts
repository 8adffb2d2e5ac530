// Helpers for results gathered over MPI at the end of a job (verify, op): byte counters travel as float32
// pairs so large counts stay exact; per-rank tensors are all-gathered with uneven counts.
import type { ByteCounts, Communicator } from "../comm/communicator.ts";
import type { GroupBytes } from "./expected-bytes.ts";

const GROUPS = ["sp", "dp", "world"] as const;
const KINDS: readonly (keyof ByteCounts)[] = ["all_gather", "reduce_scatter", "all_reduce", "all_to_all", "send_recv", "barrier"];
const SPLIT = 2 ** 20;

/** Byte counters as float32 pairs (hi, lo) so counts up to 2^44 survive an all_gather exactly. */
export function encodeBytes(b: GroupBytes): Float32Array {
  const out: number[] = [];
  for (const g of GROUPS) for (const k of KINDS) out.push(Math.floor(b[g][k] / SPLIT), b[g][k] % SPLIT);
  return Float32Array.from(out);
}

export function decodeBytes(a: Float32Array): GroupBytes {
  const mk = (): ByteCounts => ({ all_gather: 0, reduce_scatter: 0, all_reduce: 0, all_to_all: 0, send_recv: 0, barrier: 0 });
  const out: GroupBytes = { sp: mk(), dp: mk(), world: mk() };
  let i = 0;
  for (const g of GROUPS)
    for (const k of KINDS) {
      out[g][k] = a[i]! * SPLIT + a[i + 1]!;
      i += 2;
    }
  return out;
}

/** Floats per encoded GroupBytes. */
export const BYTES_WIDTH = GROUPS.length * KINDS.length * 2;

/** Every rank's GroupBytes, rank order. */
export async function gatherBytes(comm: Communicator, mine: GroupBytes, label: string): Promise<GroupBytes[]> {
  const all = await comm.startAllGather(encodeBytes(mine), label).wait();
  return Array.from({ length: comm.size }, (_, r) => decodeBytes(all.subarray(r * BYTES_WIDTH, (r + 1) * BYTES_WIDTH)));
}

/** Every rank's array (lengths may differ), rank order. */
export async function gatherArrays(comm: Communicator, mine: Float32Array, label: string): Promise<Float32Array[]> {
  const lens = await comm.startAllGather(Float32Array.of(mine.length), `${label}:len`).wait();
  const counts = Array.from(lens, (n) => Math.round(n));
  const all = await comm.startAllGather(mine, label, counts).wait();
  const out: Float32Array[] = [];
  let off = 0;
  for (const n of counts) {
    out.push(all.subarray(off, off + n));
    off += n;
  }
  return out;
}
