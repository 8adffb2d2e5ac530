// How the sequence of N tokens is cut over the W ranks of an SP group. This is a definition shared by
// the compiler (cost, bytes) and the runtime (which tokens a rank holds), not a computed result.
//
// contiguous: W chunks in sequence order, rank r holds chunk r.
// zigzag:     2W chunks, rank r holds chunks r and 2W-1-r (balances causal attention work).
// Chunk lengths: floor(N/K) each, the first N mod K chunks one longer; no token is ever dropped.
import type { Layout } from "../../dsl/spec.ts";

/** A contiguous range of global token positions held by one rank. */
export interface Segment {
  /** global position of the first token */
  readonly start: number;
  readonly length: number;
  /** index of this chunk in global sequence order (0 .. chunks-1) */
  readonly chunk: number;
}

export function chunkCount(w: number, layout: Layout): number {
  return layout === "zigzag" ? 2 * w : w;
}

/** Every chunk in global order. */
export function allChunks(n: number, w: number, layout: Layout): Segment[] {
  const k = chunkCount(w, layout);
  const base = Math.floor(n / k);
  const rem = n % k;
  const out: Segment[] = [];
  let start = 0;
  for (let c = 0; c < k; c++) {
    const length = base + (c < rem ? 1 : 0);
    out.push({ start, length, chunk: c });
    start += length;
  }
  return out;
}

/** The segments rank `rank` holds, in the order its local tensors store them. */
export function rankSegments(n: number, w: number, layout: Layout, rank: number): Segment[] {
  if (rank < 0 || rank >= w) throw new RangeError(`rank ${rank} outside 0..${w - 1}`);
  const chunks = allChunks(n, w, layout);
  return layout === "zigzag" ? [chunks[rank]!, chunks[2 * w - 1 - rank]!] : [chunks[rank]!];
}

/** Number of tokens rank `rank` holds. */
export function rankLength(n: number, w: number, layout: Layout, rank: number): number {
  return rankSegments(n, w, layout, rank).reduce((s, g) => s + g.length, 0);
}

/** Global positions of the tokens of rank `rank`, in local order. */
export function rankPositions(n: number, w: number, layout: Layout, rank: number): Int32Array {
  const segs = rankSegments(n, w, layout, rank);
  const out = new Int32Array(segs.reduce((s, g) => s + g.length, 0));
  let i = 0;
  for (const g of segs) for (let p = 0; p < g.length; p++) out[i++] = g.start + p;
  return out;
}
