// Affine folds over a sequence of chunk (or block) maps S_out = diag(exp a) S_in + M: the prefix that
// reaches each item going forward (states P) and the suffix that reaches it going backward (gradients G).
import * as tf from "@tensorflow/tfjs-core";
import { decayState } from "./decay.ts";
import type { Tensor } from "./types.ts";

/** One chunk map: its state M [BH, dk, dv] and the log-decay it applies to what passes through. */
export interface ChunkMap {
  readonly m: Tensor;
  readonly logA: Tensor | null;
}

/** out[i] = state entering item i: fold of items 0..i-1 (out[0] = 0). */
export function prefixFold(items: readonly ChunkMap[], zero: Tensor): Tensor[] {
  const out: Tensor[] = [];
  let acc = zero;
  for (const it of items) {
    out.push(acc);
    acc = tf.add(decayState(acc, it.logA), it.m);
  }
  return out;
}

/** out[i] = gradient reaching item i's output state from items i+1.. (out[last] = 0). */
export function suffixFold(items: readonly ChunkMap[], zero: Tensor): Tensor[] {
  const out: Tensor[] = new Array<Tensor>(items.length);
  let acc = zero;
  for (let i = items.length - 1; i >= 0; i--) {
    out[i] = acc;
    const it = items[i]!;
    acc = tf.add(decayState(acc, it.logA), it.m);
  }
  return out;
}

/** The state leaving the last item: fold of all items in order, starting from `zero`. */
export function foldAll(items: readonly ChunkMap[], zero: Tensor): Tensor {
  let acc = zero;
  for (const it of items) acc = tf.add(decayState(acc, it.logA), it.m);
  return acc;
}

/** The gradient entering the first item's output: all items folded from the last to the first. */
export function foldAllReverse(items: readonly ChunkMap[], zero: Tensor): Tensor {
  let acc = zero;
  for (let i = items.length - 1; i >= 0; i--) acc = tf.add(decayState(acc, items[i]!.logA), items[i]!.m);
  return acc;
}
