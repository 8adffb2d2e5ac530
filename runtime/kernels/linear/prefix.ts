// Folds over the gathered per-chunk states, in GLOBAL chunk order (not rank order: zigzag ranks hold
// non-adjacent chunks): P (prefix of earlier chunks, forward), G (suffix of later chunks, backward), and
// the single hop of the LASP-1 ring. Bidirectional: the plain sum of every chunk other than the segment's own.
import * as tf from "@tensorflow/tfjs-core";
import { chunkLogDecay, decayState } from "./decay.ts";
import { foldAll, foldAllReverse, type ChunkMap } from "./fold.ts";
import { checkOpts, type LaOpts, type Tensor } from "./types.ts";

function checkGathered(
  xs: Tensor,
  as: Tensor | null,
  chunkIds: readonly number[],
  chunkLens: readonly number[],
  mine: readonly number[],
  opts: LaOpts,
): void {
  checkOpts(opts, as);
  const t = xs.shape[0];
  if (xs.rank !== 4) throw new Error("linear attention: gathered states must be [T, BH, dk, dv]");
  if (chunkIds.length !== t || chunkLens.length !== t)
    throw new Error(`linear attention: ${t} gathered states, ${chunkIds.length} chunk ids, ${chunkLens.length} lengths`);
  if (new Set(chunkIds).size !== t) throw new Error("linear attention: duplicate chunk ids in the gathered states");
  if (mine.length !== opts.segLens.length)
    throw new Error(`linear attention: ${mine.length} local chunk ids for ${opts.segLens.length} segments`);
  if (as && (as.rank !== 3 || as.shape[0] !== t)) throw new Error("linear attention: gate products must be [T, BH, dk]");
}

/** The gathered chunks selected by `keep`, as maps sorted by global chunk index. */
function sortedMaps(
  xs: Tensor[],
  as: Tensor[] | null,
  chunkIds: readonly number[],
  chunkLens: readonly number[],
  lambdas: Float32Array | null,
  keep: (id: number) => boolean,
): ChunkMap[] {
  const idx = chunkIds.map((id, t) => [id, t] as const).filter(([id]) => keep(id));
  idx.sort((x, y) => x[0] - y[0]);
  return idx.map(([, t]) => ({ m: xs[t]!, logA: chunkLogDecay(as ? as[t]! : null, chunkLens[t]!, lambdas) }));
}

function fold(
  xs: Tensor,
  as: Tensor | null,
  chunkIds: readonly number[],
  chunkLens: readonly number[],
  mine: readonly number[],
  opts: LaOpts,
  forward: boolean,
): Tensor {
  checkGathered(xs, as, chunkIds, chunkLens, mine, opts);
  return tf.tidy(() => {
    const list = tf.unstack(xs);
    const alist = as ? tf.unstack(as) : null;
    const zero = tf.zerosLike(list[0]!);
    const out = mine.map((c) => {
      if (!opts.causal) return foldAll(sortedMaps(list, null, chunkIds, chunkLens, null, (id) => id !== c), zero);
      const keep = forward ? (id: number) => id < c : (id: number) => id > c;
      const maps = sortedMaps(list, alist, chunkIds, chunkLens, opts.lambdas, keep);
      return forward ? foldAll(maps, zero) : foldAllReverse(maps, zero);
    });
    return tf.stack(out);
  });
}

/**
 * P [S, BH, dk, dv] for each local segment (global chunk index mine[i]): the fold, in global chunk order,
 * of every gathered chunk before it, P_{c+1} = diag(exp a_c) P_c + M_c (lambda^len_c when a is null).
 * Bidirectional: the sum of every gathered chunk except the segment's own.
 */
export function laPrefix(
  ms: Tensor,
  as: Tensor | null,
  chunkIds: readonly number[],
  chunkLens: readonly number[],
  mine: readonly number[],
  opts: LaOpts,
): Tensor {
  return fold(ms, as, chunkIds, chunkLens, mine, opts, true);
}

/**
 * G [S, BH, dk, dv] for each local segment: the fold of every LATER gathered chunk's D,
 * G_c = D_{c+1} + diag(exp a_{c+1}) G_{c+1}. Bidirectional: the sum of every other chunk's D.
 */
export function laSuffix(
  ds: Tensor,
  as: Tensor | null,
  chunkIds: readonly number[],
  chunkLens: readonly number[],
  mine: readonly number[],
  opts: LaOpts,
): Tensor {
  return fold(ds, as, chunkIds, chunkLens, mine, opts, false);
}

/**
 * One LASP-1 hop over one chunk of length `len`: P_out = diag(exp a) P_in + M (lambda^len P_in + M).
 * Backward mirror: G_{c-1} = laCarry(G_c, D_c, a_c, len_c, lambdas). States [BH, dk, dv], a [BH, dk].
 */
export function laCarry(pIn: Tensor, m: Tensor, a: Tensor | null, len: number, lambdas: Float32Array | null): Tensor {
  return tf.tidy(() => tf.add(decayState(pIn, chunkLogDecay(a, len, lambdas)), m));
}
