// A rank's share of a global batch: the token positions it holds (compiler/plan/partition.ts
// rankPositions) and, for data parallelism, a range of rows. Pure copying, no randomness.
import type { Batch } from "./types.ts";

export interface SliceOptions {
  /** global token positions this rank holds, in local order (rankPositions from partition.ts) */
  readonly positions: Int32Array;
  /** rows [from, to) of the global batch this rank's DP group takes; default all rows */
  readonly rows?: readonly [number, number];
}

/** tokens/targets [rows * C] for C = positions.length, row-major like the global batch. */
export function sliceBatch(batch: Batch, seq: number, opts: SliceOptions): Batch {
  const total = batch.tokens.length / seq;
  if (!Number.isInteger(total)) throw new Error(`sliceBatch: ${batch.tokens.length} tokens is not a multiple of seq ${seq}`);
  const [from, to] = opts.rows ?? [0, total];
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= total)) {
    throw new Error(`sliceBatch: rows [${from}, ${to}) outside the batch of ${total} rows`);
  }
  const pos = opts.positions;
  for (const p of pos) if (p < 0 || p >= seq) throw new Error(`sliceBatch: position ${p} outside the sequence of ${seq}`);
  const c = pos.length;
  const tokens = new Int32Array((to - from) * c);
  const targets = new Int32Array((to - from) * c);
  for (let r = from; r < to; r++) {
    const src = r * seq;
    const dst = (r - from) * c;
    for (let i = 0; i < c; i++) {
      tokens[dst + i] = batch.tokens[src + pos[i]!]!;
      targets[dst + i] = batch.targets[src + pos[i]!]!;
    }
  }
  return { tokens, targets };
}

/**
 * Scored positions (target != -1). The loss must be divided by the GLOBAL count (all ranks, all
 * rows), not each rank's own: MQAR scores only positions after the context, so ranks differ.
 */
export function countScored(targets: Int32Array): number {
  let n = 0;
  for (const t of targets) if (t !== -1) n++;
  return n;
}
