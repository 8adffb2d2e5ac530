// Single-device convenience: every piece run with W = 1, the local segments taken as consecutive
// global chunks 0..S-1. Used by tests and as the reference composition of the pieces.
import * as tf from "@tensorflow/tfjs-core";
import { laBwdInter, laInter } from "./inter.ts";
import { laBwdIntra, laIntra } from "./intra.ts";
import { laPrefix, laSuffix } from "./prefix.ts";
import { laBwdState, laState } from "./state.ts";
import type { LaGrads, LaOpts, Tensor } from "./types.ts";

/** O [BH, C, dv] of the whole local sequence. */
export function linearAttentionLocal(q: Tensor, k: Tensor, v: Tensor, g: Tensor | null, opts: LaOpts): Tensor {
  const ids = opts.segLens.map((_, i) => i);
  const st = laState(k, v, g, opts);
  const p = laPrefix(st.m, st.a, ids, opts.segLens, ids, opts);
  const oIntra = laIntra(q, k, v, g, opts);
  const o = laInter(q, p, oIntra, g, opts);
  tf.dispose([st.m, ...(st.a ? [st.a] : []), p, oIntra]);
  return o;
}

/** Gradients of linearAttentionLocal given dO. */
export function linearAttentionLocalBwd(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  g: Tensor | null,
  dO: Tensor,
  opts: LaOpts,
): LaGrads {
  const ids = opts.segLens.map((_, i) => i);
  const st = laState(k, v, g, opts);
  const p = laPrefix(st.m, st.a, ids, opts.segLens, ids, opts);
  const d = laBwdState(q, dO, g, opts);
  const gs = laSuffix(d, st.a, ids, opts.segLens, ids, opts);
  const intra = laBwdIntra(q, k, v, g, dO, opts);
  const out = laBwdInter(q, k, v, g, dO, p, gs, intra, opts);
  tf.dispose([st.m, ...(st.a ? [st.a] : []), p, d, gs, intra.dq, intra.dk, intra.dv, ...(intra.dg ? [intra.dg] : [])]);
  return out;
}
