// Plan ops for attention: LASP-2 linear-attention pieces (ALGORITHM.md section 1), LASP-1 carry, ring
// cross-block terms, and blocked softmax attention (section 2). Kernels only: comm is a separate step.
import { Type } from "@sinclair/typebox";
import { stepSchema, PosInt, NatInt } from "./step.ts";

/** Attributes shared by every linear-attention op. */
const la = {
  batch: PosInt("B"),
  heads: PosInt("H: heads of q, k, v as the kernel sees them (k, v already repeated)"),
  dk: PosInt("key dim after the feature map"),
  dv: PosInt("value dim"),
  causal: Type.Boolean(),
  block: PosInt("block size of the blocked intra-chunk kernels"),
  /** per head h (length H), lambda in (0, 1]; null = no decay. The kernel uses lambdas[h mod H] for folded head b*H+h. */
  lambdas: Type.Union([Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 1 })), Type.Null()]),
  /** GLA: log-gates g [B*H, C, dk] are an extra input (always last) */
  gated: Type.Boolean(),
};

export const LaStateStep = stepSchema(
  "la_state",
  la,
  "in [k [B*H, C, dk], v [B*H, C, dv], (g when gated)] -> out [M [S, B*H, dk, dv]] (+ A [S, B*H, dk] when gated): " +
    "per local segment s, M_s = sum_r lambda^(len_s-1-r) k_r^T v_r (gated: the gated local state; A_s = product " +
    "of the segment's gates).",
);
export const LaIntraStep = stepSchema(
  "la_intra",
  la,
  "in [q [B*H, C, dk], k, v, (g)] -> out [oIntra [B*H, C, dv]]: the within-segment term " +
    "[(Q K^T) . Psi_decay] V, blocked by `block`, never mixing two segments (causal = false: unmasked, no decay).",
);
export const LaPrefixStep = stepSchema(
  "la_prefix",
  la,
  "in [Mall [W*S, B*H, dk, dv], (Aall [W*S, B*H, dk] when gated)] -> out [P [S, B*H, dk, dv]]: Mall is the all_gather " +
    "of every rank's M in rank order (entry q*S + s = segment s of rank q; its global chunk index and length come " +
    "from partition.ts rankSegments). Causal: " +
    "P_s = decayed fold of the states of all chunks before segment s's chunk, in GLOBAL chunk order. " +
    "Bidirectional: P_s = sum of all states (every chunk, own included).",
);
export const LaInterStep = stepSchema(
  "la_inter",
  la,
  "in [q [B*H, C, dk], P [S, B*H, dk, dv], oIntra [B*H, C, dv] (causal only), (g)] -> out [o [B*H, C, dv]]: " +
    "o[r] = oIntra[r] + lambda^(r+1) q_r P_seg(r) (gated: cumulative gates instead of lambda powers); " +
    "bidirectional: o = q P (no oIntra input).",
);
export const LaCarryStep = stepSchema(
  "la_carry",
  { ...la, reverse: Type.Boolean({ description: "false: forward prefix carry; true: backward suffix carry" }) },
  "LASP-1 ring step. in [Pin [1, B*H, dk, dv] or empty (zeros), M [1, B*H, dk, dv], (A [1, B*H, dk])] -> " +
    "out [Pout [1, B*H, dk, dv]] = lambda^C Pin + M (gated: diag(A) Pin + M). With reverse the same form carries " +
    "the gradient suffix: G_{t-1} = lambda^C G_t + D_t (C = this rank's chunk length).",
);
export const LaCrossStep = stepSchema(
  "la_cross",
  { ...la, hop: PosInt("the K/V block came from SP rank (r - hop) mod W"), groups: PosInt("H / Hkv") },
  "Ring attention, one received block. in [q [B*H, C, dk], kBlk [B*Hkv, Cs, dk], vBlk [B*Hkv, Cs, dv]] -> " +
    "out [oPart [B*H, C, dv]]: oPart_i = sum_{j in block, pos_j < pos_i} lambda^(pos_i-pos_j) (q_i . k_j) v_j " +
    "(causal; bidirectional: every j, no decay mask), at global positions; kv head of head h is floor(h/groups).",
);
export const LaCrossBwdStep = stepSchema(
  "la_cross_bwd",
  { ...la, hop: PosInt("block from SP rank (r - hop) mod W"), groups: PosInt("H / Hkv") },
  "in [q, kBlk, vBlk, do [B*H, C, dv]] -> out [dq [B*H, C, dk], dkBlk [B*Hkv, Cs, dk], dvBlk [B*Hkv, Cs, dv]]: " +
    "the gradients of la_cross (dkBlk, dvBlk summed over each kv head's groups).",
);
export const LaBwdStateStep = stepSchema(
  "la_bwd_state",
  la,
  "in [q [B*H, C, dk], do [B*H, C, dv], (g)] -> out [D [S, B*H, dk, dv]]: D_s = sum_r lambda^(r+1) q_r^T do_r " +
    "over segment s (gated: cumulative gates) - the gradient w.r.t. the segment's incoming prefix state.",
);
export const LaBwdIntraStep = stepSchema(
  "la_bwd_intra",
  la,
  "in [q, k, v, do, (g)] -> out [dq, dk, dv, (dg when gated)]: gradients of la_intra alone " +
    "(A = (do V^T) . Psi; dq = A K; dk = A^T Q; dv = [(Q K^T) . Psi]^T do, decayed).",
);
export const LaSuffixStep = stepSchema(
  "la_suffix",
  la,
  "in [Dall [W*S, B*H, dk, dv], (Aall [W*S, B*H, dk] from the forward gather when gated)] -> out [G [S, B*H, dk, dv]]: " +
    "causal: G_s = decayed sum of D over all chunks AFTER segment s's chunk in global order; bidirectional: sum of all D.",
);
export const LaBwdInterStep = stepSchema(
  "la_bwd_inter",
  la,
  "in [q, k, v, do, P [S, B*H, dk, dv], G [S, B*H, dk, dv], (g)] -> out [dq, dk, dv, (dg)]: the inter-chunk terms " +
    "dq_r = lambda^(r+1) do_r P^T; dk_r = lambda^(C-1-r) v_r G^T; dv_r = lambda^(C-1-r) k_r G (gated: dg " +
    "includes the gate gradient through P and G). The caller adds them to la_bwd_intra's.",
);

/** Attributes shared by the softmax-attention ops. */
const sa = {
  batch: PosInt("B"),
  heads: PosInt("query heads per sequence in the tensor (H, or H/W after an Ulysses all_to_all)"),
  kvHeads: PosInt("kv heads per sequence in the tensor"),
  groups: PosInt("heads / kvHeads (GQA)"),
  dk: PosInt("q/k dim"),
  dv: PosInt("v dim"),
  causal: Type.Boolean(),
  scale: Type.Number({ exclusiveMinimum: 0, description: "1/sqrt(dk)" }),
  block: PosInt("key/query block of the online softmax"),
  /** whose positions the query rows have: local = this rank's; gathered = all ranks' in rank order (Ulysses) */
  qSource: Type.Union([Type.Literal("local"), Type.Literal("gathered")]),
  /** local = this rank's positions; gathered = all ranks' in rank order; ring = rank (r - hop) mod W's */
  kvSource: Type.Union([Type.Literal("local"), Type.Literal("gathered"), Type.Literal("ring")]),
  hop: NatInt("ring hop (kvSource = ring), else 0"),
};

export const SaForwardStep = stepSchema(
  "sa_forward",
  sa,
  "in [q [B*heads, Cq, dk], k [B*kvHeads, Ck, dk], v [B*kvHeads, Ck, dv]] -> out [o [B*heads, Cq, dv], lse [B*heads, Cq]]: " +
    "blocked online softmax(scale q k^T + mask) v at the global positions given by qSource/kvSource; causal " +
    "masks key pos > query pos. Rows that see no key give o = 0, lse = -inf.",
);
export const SaBackwardStep = stepSchema(
  "sa_backward",
  sa,
  "in [q, k, v, o, lse, do] -> out [dq [B*heads, Cq, dk], dk [B*kvHeads, Ck, dk], dv [B*kvHeads, Ck, dv]]: " +
    "flash-attention backward with the FINAL o and lse (so ring blocks can be done one at a time).",
);
export const SaMergeStep = stepSchema(
  "sa_merge",
  { batch: PosInt("B"), heads: PosInt("heads"), dv: PosInt("dv") },
  "in [o1 [B*heads, C, dv], lse1 [B*heads, C], o2, lse2] -> out [o, lse]: online-softmax merge of two partial " +
    "results: lse = logaddexp(lse1, lse2), o = exp(lse1-lse) o1 + exp(lse2-lse) o2.",
);

export const attentionSteps = [
  LaStateStep, LaIntraStep, LaPrefixStep, LaInterStep, LaCarryStep, LaCrossStep, LaCrossBwdStep, LaBwdStateStep,
  LaBwdIntraStep, LaSuffixStep, LaBwdInterStep, SaForwardStep, SaBackwardStep, SaMergeStep,
] as const;
