// Part sizes and offsets shared by every transport: resolving `counts`, the all_reduce split, and
// the byte-count formulas (bytes a rank receives from others), so all transports agree exactly.
import { CommError } from "./communicator.ts";

/** Element counts per rank: `counts` when given (checked), else `size` copies of `each`. */
export function resolveCounts(
  counts: readonly number[] | undefined,
  size: number,
  each: number,
  who: { rank: number; label: string; what: string },
): number[] {
  if (counts === undefined) return new Array<number>(size).fill(each);
  if (counts.length !== size || counts.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new CommError(
      `rank ${who.rank}: ${who.what} '${who.label}': counts must be ${size} non-negative integers, got [${counts.join(", ")}]`,
      who.rank,
      who.label,
    );
  }
  return [...counts];
}

/** Exclusive prefix sums: offsets[r] = sum of counts before r; offsets[size] = total. */
export function offsetsOf(counts: readonly number[]): number[] {
  const out = [0];
  let acc = 0;
  for (const c of counts) {
    acc += c;
    out.push(acc);
  }
  return out;
}

/** How all_reduce splits n elements into `size` parts (reduce-scatter then all-gather): first n % size get one more. */
export function allReduceCounts(n: number, size: number): number[] {
  const base = Math.floor(n / size);
  const rem = n % size;
  return Array.from({ length: size }, (_, r) => base + (r < rem ? 1 : 0));
}

/** The first send_recv peer that is not a rank of a group of `size`, as "to = 5", or null when both are fine. */
export function badPeer(to: number | null, from: number | null, size: number): string | null {
  for (const [what, peer] of [
    ["to", to],
    ["from", from],
  ] as const) {
    if (peer !== null && !(Number.isInteger(peer) && peer >= 0 && peer < size)) return `${what} = ${peer}`;
  }
  return null;
}

/** Sum of counts over ranks other than `rank`. */
export function othersSum(counts: readonly number[], rank: number): number {
  let s = 0;
  counts.forEach((c, r) => {
    if (r !== rank) s += c;
  });
  return s;
}

/** Float32 bytes received by `rank` from others in each collective (the byte-counter formulas). */
export const receivedBytes = {
  allGather: (counts: readonly number[], rank: number): number => 4 * othersSum(counts, rank),
  reduceScatter: (counts: readonly number[], rank: number): number => 4 * (counts.length - 1) * (counts[rank] ?? 0),
  allReduce: (n: number, size: number, rank: number): number => {
    const parts = allReduceCounts(n, size);
    return 4 * ((size - 1) * (parts[rank] ?? 0) + othersSum(parts, rank));
  },
  allToAll: (recvCounts: readonly number[], rank: number): number => 4 * othersSum(recvCounts, rank),
};

/** Deterministic 32-bit FNV-1a hash of a string, used to compare labels across ranks cheaply. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Deterministic 32-bit hash of an integer list (counts agreement check). */
export function hashInts(xs: readonly number[]): number {
  let h = 0x811c9dc5 ^ xs.length;
  for (const x of xs) {
    h ^= x | 0;
    h = Math.imul(h, 0x01000193);
    h ^= Math.floor(x / 2 ** 32);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
