// Cutting one segment [BH, L, d] into blocks [BH*nb, b, d] (zero-padded at the tail, so no token is
// dropped; zero k, v, q and zero log-decay in the padding change nothing) and the per-block chunk maps
// that carry state from block to block inside the segment.
import * as tf from "@tensorflow/tfjs-core";
import { simdMatMulActive } from "../simd/matmul.ts";
import { scanBlocks } from "../simd/scan.ts";
import { gpuKernels } from "../gpu-hooks.ts";
import { cumLog, cumsumTokens, totalLog } from "./decay.ts";
import { prefixFold, suffixFold, type ChunkMap } from "./fold.ts";
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

/**
 * The scan over the blocks of a segment, per BH row, of per-block states [BH*nb, dk, dv] with the blocks'
 * log-decays (from c):
 *   forward (prefix):  out[j] = sum_{i<j} a(i, j) states[i]   (the state entering block j)
 *   reverse (suffix):  out[i] = sum_{j>i} a(i, j) states[j]   (the gradient reaching block i's output state)
 * where a(i, j) = exp(sum of the log-decays of blocks i+1 .. j-1) (1 for neighbours): prefixFold / suffixFold
 * of fold.ts. With a scalar decay per token (none, or fixed per head) on a CPU backend this is one streamed
 * pass of the SIMD scan kernel; on WebGPU one dispatch of the WGSL scan (any decay, gates too); other
 * backends use a cumulative sum when there is no decay, else the serial fold (a sync read of the decays
 * would stall a GPU).
 */
export function blockScan(states: Tensor, c: Tensor | null, gr: BlockGrid, reverse: boolean): Tensor {
  const [, dk, dv] = states.shape as [number, number, number];
  const { bh, nb } = gr;
  if (nb === 1) return tf.zerosLike(states);
  if (simdMatMulActive() && (c === null || c.shape[2] === 1)) {
    const factors = c === null ? null : Float32Array.from(totalLog(c).dataSync(), Math.exp);
    const r = scanBlocks(states, bh, nb, factors, reverse);
    if (r !== null) return r;
  }
  const gpu = gpuKernels();
  if (gpu !== null) return gpu.scanBlocks(states, c === null ? null : totalLog(c), bh, nb, reverse);
  if (c === null) {
    const flat = tf.reshape(states, [bh, nb, dk * dv]);
    return tf.reshape(cumsumTokens(flat, true, reverse), [bh * nb, dk, dv]);
  }
  const zero = tf.zeros([bh, dk, dv]);
  const maps = blockMaps(states, c, gr);
  return stackBlocks(reverse ? suffixFold(maps, zero) : prefixFold(maps, zero), gr);
}
