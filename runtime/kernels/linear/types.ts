// Shared types and argument checks of the linear-attention kernels: options, gradient records, the
// segment ranges of a rank's local tokens, and a tidy that lets records carry null fields.
import * as tf from "@tensorflow/tfjs-core";

export type Tensor = tf.Tensor;

/** Options every linear-attention piece takes. */
export interface LaOpts {
  /** causal (prefix) or bidirectional (every token sees every token; no decay, no gates) */
  readonly causal: boolean;
  /** block size of the blocked intra-chunk computation (the tail block may be shorter) */
  readonly block: number;
  /** per folded head (length BH) decay lambda in (0, 1], or null for none */
  readonly lambdas: Float32Array | null;
  /** lengths of the local segments, in local storage order; they sum to C */
  readonly segLens: readonly number[];
}

/** Gradients of one linear-attention call; dg (w.r.t. the log-gates) only when gates were given. */
export interface LaGrads {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  dg: Tensor | null;
}

/** [offset, length] of every local segment along the token axis. */
export function segRanges(segLens: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let off = 0;
  for (const len of segLens) {
    out.push([off, len]);
    off += len;
  }
  return out;
}

export function checkOpts(opts: LaOpts, g: Tensor | null): void {
  if (!Number.isInteger(opts.block) || opts.block < 1) throw new Error(`linear attention: block must be a positive integer, got ${opts.block}`);
  if (opts.segLens.length === 0) throw new Error("linear attention: segLens is empty");
  for (const len of opts.segLens)
    if (!Number.isInteger(len) || len < 0) throw new Error(`linear attention: bad segment length ${len}`);
  if (!opts.causal && (opts.lambdas !== null || g !== null))
    throw new Error("linear attention: bidirectional attention takes no decay and no gates");
  if (opts.lambdas)
    for (const l of opts.lambdas)
      if (!(l > 0 && l <= 1)) throw new Error(`linear attention: decay lambda ${l} outside (0, 1]`);
}

/** Checks q/k-like [BH, C, d] tensors against the options; returns [BH, C]. */
export function checkTokens(opts: LaOpts, g: Tensor | null, ...xs: Tensor[]): [number, number] {
  checkOpts(opts, g);
  const first = xs[0];
  if (!first || first.rank !== 3) throw new Error("linear attention: tensors must be [BH, C, d]");
  const [bh, c] = first.shape as [number, number, number];
  for (const x of [...xs, ...(g ? [g] : [])])
    if (x.rank !== 3 || x.shape[0] !== bh || x.shape[1] !== c)
      throw new Error(`linear attention: shape [${x.shape.join(",")}] does not match [${bh},${c},d]`);
  const total = opts.segLens.reduce((s, l) => s + l, 0);
  if (total !== c) throw new Error(`linear attention: segLens sum to ${total}, tensors hold ${c} tokens`);
  if (opts.lambdas && opts.lambdas.length !== bh)
    throw new Error(`linear attention: ${opts.lambdas.length} lambdas for ${bh} heads`);
  return [bh, c];
}

/** tf.tidy for a record whose fields are tensors or null: the tensors survive, everything else is freed. */
export function tidyRecord<T extends { [key: string]: Tensor | null }>(fn: () => T): T {
  const nulls: string[] = [];
  const kept = tf.tidy(() => {
    const r = fn();
    const out: Record<string, Tensor> = {};
    for (const [key, val] of Object.entries(r)) {
      if (val) out[key] = val;
      else nulls.push(key);
    }
    return out;
  });
  const res: Record<string, Tensor | null> = { ...kept };
  for (const key of nulls) res[key] = null;
  return res as T;
}
