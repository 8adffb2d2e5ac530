// Cutting one segment [BH, L, d] into blocks [BH*nb, b, d] (zero-padded at the tail, so no token is
// dropped; zero k, v, q and zero log-decay in the padding change nothing) and the per-block chunk maps
// that carry state from block to block inside the segment.
import * as tf from "@tensorflow/tfjs-core";
import { cumLog, totalLog } from "./decay.ts";
import type { ChunkMap } from "./fold.ts";
import type { Tensor } from "./types.ts";

export interface BlockGrid {
  readonly bh: number;
  /** tokens in the segment */
  readonly len: number;
  /** block size actually used (min(block, len)) */
  readonly b: number;
  readonly nb: number;
}

export function grid(bh: number, len: number, block: number): BlockGrid {
  const b = Math.max(1, Math.min(block, len));
  return { bh, len, b, nb: Math.ceil(len / b) };
}

/** [BH, L, d] -> [BH*nb, b, d], zero-padded at the end. */
export function toBlocks(x: Tensor, gr: BlockGrid): Tensor {
  const d = x.shape[2]!;
  const pad = gr.nb * gr.b - gr.len;
  const padded = pad > 0 ? tf.pad(x, [[0, 0], [0, pad], [0, 0]]) : x;
  return tf.reshape(padded, [gr.bh * gr.nb, gr.b, d]);
}

/** [BH*nb, b, d] -> [BH, L, d] (padding removed). */
export function fromBlocks(x: Tensor, gr: BlockGrid): Tensor {
  const d = x.shape[2]!;
  const full = tf.reshape(x, [gr.bh, gr.nb * gr.b, d]);
  return gr.nb * gr.b === gr.len ? full : tf.slice(full, [0, 0, 0], [-1, gr.len, -1]);
}

/** Cumulative log-decay of each block from the block start, or null. */
export function blockCum(l: Tensor | null, gr: BlockGrid): Tensor | null {
  return cumLog(l ? toBlocks(l, gr) : null);
}

/** [BH*nb, dk, dv] per-block states -> nb chunk maps with the blocks' own log-decays. */
export function blockMaps(states: Tensor, c: Tensor | null, gr: BlockGrid): ChunkMap[] {
  const [, dk, dv] = states.shape as [number, number, number];
  const ms = tf.unstack(tf.reshape(states, [gr.bh, gr.nb, dk, dv]), 1);
  const as = c ? tf.unstack(tf.reshape(totalLog(c), [gr.bh, gr.nb, c.shape[2]!]), 1) : null;
  return ms.map((m, i) => ({ m, logA: as ? as[i]! : null }));
}

/** nb states [BH, dk, dv] (one per block) -> [BH*nb, dk, dv]. */
export function stackBlocks(states: readonly Tensor[], gr: BlockGrid): Tensor {
  const [, dk, dv] = states[0]!.shape as [number, number, number];
  return tf.reshape(tf.stack(states as Tensor[], 1), [gr.bh * gr.nb, dk, dv]);
}
