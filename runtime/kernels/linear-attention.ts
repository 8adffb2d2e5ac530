// Linear-attention kernels for LASP-2 / LASP-1 / ring, forward and backward, as separable pieces so the
// executor can put communication between them (no communication happens inside). Math: ALGORITHM.md §1.
// Implementation in ./linear/ (one concept a file); this file is the public API and its contract.
//
// Layout: q, k [BH, C, dk]; v, dO [BH, C, dv]; optional log-gates g [BH, C, dk] (log alpha <= 0, GLA);
// opts = { causal, block, lambdas: Float32Array(BH) in (0,1] | null, segLens (sum C, local order) }.
// Recurrence: S_r = diag(alpha_r) S_{r-1} + k_r^T v_r, o_r = q_r S_r (fixed decay: alpha_r = lambda on
// all dims; gates and lambdas may be combined, the gate then being g + log lambda). Bidirectional:
// o_i = q_i sum_j k_j^T v_j; decay or gates with causal=false throw.
//
// Causal LASP-2 forward on one rank (segments = its chunks, mine[i] = global chunk index of segment i):
//   {m, a} = laState(k, v, g, opts)            m [S,BH,dk,dv]; a [S,BH,dk] (log gate product) or null
//   AllGather m (and a) -> ms [T,BH,dk,dv], as [T,BH,dk] | null, with chunkIds[T], chunkLens[T]
//   oIntra = laIntra(q, k, v, g, opts)         (independent of the gather: overlap it)
//   p = laPrefix(ms, as, chunkIds, chunkLens, mine, opts)   [S,BH,dk,dv]; keep for the backward
//   o = laInter(q, p, oIntra, g, opts)
// Backward, given dO:
//   d = laBwdState(q, dO, g, opts)             [S,BH,dk,dv]; AllGather d -> ds [T,...] (as from forward)
//   intra = laBwdIntra(q, k, v, g, dO, opts)   {dq, dk, dv, dg|null}  (overlap with the gather)
//   gs = laSuffix(ds, as, chunkIds, chunkLens, mine, opts)
//   {dq, dk, dv, dg} = laBwdInter(q, k, v, g, dO, p, gs, intra, opts)   dg non-null iff g given
// Bidirectional split: laIntra gives each segment q_seg (K_seg^T V_seg) only; laPrefix/laSuffix give
// each segment the SUM of every other gathered chunk's state (other ranks' AND the rank's other segment).
// The gathered set may include the rank's own states: prefixes select by chunk id, never by rank order.
// LASP-1: p_{c+1} = laCarry(p_c, m_c, a_c, len_c, lambdas) along global chunk order (m_c, a_c from
//   laState, per segment [BH,dk,dv] / [BH,dk]); backward g_{c-1} = laCarry(g_c, d_c, a_c, len_c, lambdas).
// Ring: laCross(q_seg, posQ, k_blk, v_blk, posK, lambdas, causal=true) adds an earlier block's
//   contribution (all posK < all posQ: call it per local segment); laCrossBwd(..., dO, causal) -> {dq, dk, dv}.
//   No gates in the ring. Own-chunk diagonal: laIntra / laBwdIntra.
// Numerics: intra is blocked by opts.block (tail block shorter, never dropped); every decay is exp of a
// log-space difference <= 0 taken from the chunk or block start; the diagonal tile is masked (s <= r);
// with gates the tile (exact per-dim pairwise decays, [X,b,b,dk]) is min(block, GATED_TILE=16) tokens.
export type { LaGrads, LaOpts } from "./linear/types.ts";
export { laState, laBwdState } from "./linear/state.ts";
export { laIntra, laBwdIntra } from "./linear/intra.ts";
export { laPrefix, laSuffix, laCarry } from "./linear/prefix.ts";
export { laInter, laBwdInter } from "./linear/inter.ts";
export { laCross, laCrossBwd } from "./linear/ring.ts";
export { linearAttentionLocal, linearAttentionLocalBwd } from "./linear/local.ts";
