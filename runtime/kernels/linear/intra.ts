// Intra-segment linear attention, forward and backward: each local segment alone, as if no token came
// before it. Causal: blocked — a masked diagonal tile per block plus the state carried serially from
// the earlier blocks of the same segment. Bidirectional: q (K_seg^T V_seg). Segments never mix.
import * as tf from "@tensorflow/tfjs-core";
import { matMul } from "../simd/matmul.ts";
import { blockCum, blockScan, fromBlocks, grid, toBlocks, type BlockGrid } from "./blocks.ts";
import { cumsumTokens, logDecay, sliceTokens } from "./decay.ts";
import { diagBackward, diagForward, fixedTile, type FixedTile } from "./diag.ts";
import { spanReadBwdQ, spanRead, spanReadGrad, spanState, spanWriteBwd } from "./span.ts";
import { checkTokens, segRanges, tidyRecord, type LaGrads, type LaOpts, type Tensor } from "./types.ts";

/**
 * Per-key-dim gates make the diagonal tile a [X, b, b, dk] tensor (exact pairwise decays in log space);
 * the tile is capped at GATED_TILE tokens so that tensor stays small, the rest going through block states.
 */
export const GATED_TILE = 16;

function tileSize(opts: LaOpts, g: Tensor | null): number {
  return g ? Math.min(opts.block, GATED_TILE) : opts.block;
}

/** The fixed diagonal-tile weights (no gates: mask, or mask and fixed decay) for the SIMD kernels, or null. */
function fixedFor(g: Tensor | null, opts: LaOpts, gr: BlockGrid): FixedTile | null {
  return g === null ? fixedTile(opts.lambdas, gr) : null;
}

function intraCausalSeg(q: Tensor, k: Tensor, v: Tensor, l: Tensor | null, gr: BlockGrid, fixed: FixedTile | null): Tensor {
  const [q4, k4, v4] = [toBlocks(q, gr), toBlocks(k, gr), toBlocks(v, gr)];
  const c4 = blockCum(l, gr);
  let o4 = diagForward(q4, k4, v4, c4, fixed);
  if (gr.nb > 1) {
    const pIn = blockScan(spanState(k4, v4, c4), c4, gr, false);
    o4 = spanRead(q4, c4, pIn, o4);
  }
  return fromBlocks(o4, gr);
}

/** O_intra [BH, C, dv]: every segment's own causal (or bidirectional) attention. */
export function laIntra(q: Tensor, k: Tensor, v: Tensor, g: Tensor | null, opts: LaOpts): Tensor {
  const [bh, c] = checkTokens(opts, g, q, k, v);
  return tf.tidy(() => {
    const l = logDecay(g, opts.lambdas, bh, c);
    const parts: Tensor[] = [];
    for (const [off, len] of segRanges(opts.segLens)) {
      if (len === 0) continue;
      const [qs, ks, vs] = [sliceTokens(q, off, len), sliceTokens(k, off, len), sliceTokens(v, off, len)];
      if (!opts.causal) parts.push(matMul(qs, matMul(ks, vs, true, false)));
      else {
        const gr = grid(bh, len, tileSize(opts, g));
        parts.push(intraCausalSeg(qs, ks, vs, l ? sliceTokens(l, off, len) : null, gr, fixedFor(g, opts, gr)));
      }
    }
    return parts.length > 1 ? tf.concat(parts, 1) : parts.length === 1 ? parts[0]! : tf.zeros([bh, 0, v.shape[2]!]);
  });
}

interface SegGrads {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
}

function bwdCausalSeg(q: Tensor, k: Tensor, v: Tensor, l: Tensor | null, dO: Tensor, gr: BlockGrid, fixed: FixedTile | null): SegGrads {
  const [q4, k4, v4, dO4] = [toBlocks(q, gr), toBlocks(k, gr), toBlocks(v, gr), toBlocks(dO, gr)];
  const c4 = blockCum(l, gr);
  let { dq, dk, dv } = diagBackward(q4, k4, v4, c4, dO4, fixed);
  if (gr.nb > 1) {
    dq = spanReadBwdQ(dO4, c4, blockScan(spanState(k4, v4, c4), c4, gr, false), dq);
    const w = spanWriteBwd(k4, v4, c4, blockScan(spanReadGrad(q4, c4, dO4), c4, gr, true), { dk, dv });
    dk = w.dk;
    dv = w.dv;
  }
  return { dq: fromBlocks(dq, gr), dk: fromBlocks(dk, gr), dv: fromBlocks(dv, gr) };
}

function bwdBidirSeg(q: Tensor, k: Tensor, v: Tensor, dO: Tensor): SegGrads {
  const m = matMul(k, v, true, false);
  const d = matMul(q, dO, true, false);
  return { dq: matMul(dO, m, false, true), dk: matMul(v, d, false, true), dv: matMul(k, d) };
}

/**
 * Gradients of laIntra given dO [BH, C, dv]. With gates, dg is the intra part of the gradient w.r.t.
 * the log-gates: the reverse cumulative sum, within each segment, of q*dq - k*dk (GLA identity).
 */
export function laBwdIntra(q: Tensor, k: Tensor, v: Tensor, g: Tensor | null, dO: Tensor, opts: LaOpts): LaGrads {
  const [bh, c] = checkTokens(opts, g, q, k, v, dO);
  return tidyRecord(() => {
    const l = logDecay(g, opts.lambdas, bh, c);
    const parts: SegGrads[] = [];
    for (const [off, len] of segRanges(opts.segLens)) {
      if (len === 0) continue;
      const [qs, ks, vs, ds] = [q, k, v, dO].map((x) => sliceTokens(x, off, len)) as [Tensor, Tensor, Tensor, Tensor];
      const gr = grid(bh, len, tileSize(opts, g));
      parts.push(opts.causal ? bwdCausalSeg(qs, ks, vs, l ? sliceTokens(l, off, len) : null, ds, gr, fixedFor(g, opts, gr)) : bwdBidirSeg(qs, ks, vs, ds));
    }
    const cat = (f: (s: SegGrads) => Tensor, d: number): Tensor =>
      parts.length > 1 ? tf.concat(parts.map(f), 1) : parts.length === 1 ? f(parts[0]!) : tf.zeros([bh, 0, d]);
    const dq = cat((s) => s.dq, q.shape[2]!);
    const dk = cat((s) => s.dk, k.shape[2]!);
    const dv = cat((s) => s.dv, v.shape[2]!);
    return { dq, dk, dv, dg: g ? gateGradFromQK(q, dq, k, dk, opts) : null };
  });
}

/** Reverse cumulative sum, within each segment, of q*dq - k*dk: the log-gate gradient of the terms. */
export function gateGradFromQK(q: Tensor, dq: Tensor, k: Tensor, dk: Tensor, opts: LaOpts): Tensor {
  const x = tf.sub(tf.mul(q, dq), tf.mul(k, dk));
  const parts: Tensor[] = [];
  for (const [off, len] of segRanges(opts.segLens))
    if (len > 0) parts.push(cumsumTokens(sliceTokens(x, off, len), false, true));
  return parts.length > 1 ? tf.concat(parts, 1) : parts.length === 1 ? parts[0]! : tf.zeros(x.shape);
}
