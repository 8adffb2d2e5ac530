// Plan ops for communication: every collective is a comm_start / comm_wait pair so compute can sit between
// them (overlap). Sizes are symbolic (per-token and fixed element counts) so one plan serves every rank.
import { Type, type Static } from "@sinclair/typebox";
import { stepSchema, NatInt, PosInt } from "./step.ts";

export const Collective = Type.Union([
  Type.Literal("all_gather"),
  Type.Literal("reduce_scatter"),
  Type.Literal("all_reduce"),
  Type.Literal("all_to_all"),
  Type.Literal("send_recv"),
]);
export type Collective = Static<typeof Collective>;

/** sp: the ranks sharing one sequence; dp: same SP index, different data; world: all sp*dp ranks. */
export const Group = Type.Union([Type.Literal("sp"), Type.Literal("dp"), Type.Literal("world")]);
export type Group = Static<typeof Group>;

export const Peer = Type.Union([Type.Literal("prev"), Type.Literal("next"), Type.Null()]);
export type Peer = Static<typeof Peer>;

/** In a CommPart shape: this axis has one entry per token of the rank whose data it is (C_q). */
export const TOKEN_AXIS = -1;

/**
 * One transferred tensor, as ONE rank's contribution: `shape` with -1 (TOKEN_AXIS) on the token axis, which
 * is C_q (tokens of SP rank q, partition.ts) for rank q's data. `axis` is the axis along which the ranks'
 * parts are concatenated (all_gather result) or laid side by side in rank order (reduce_scatter input).
 * Examples: a LASP-2 state [S, B*H, dk, dv] on axis 0; K of LASP-2H [B*Hkv, -1, dk] on axis 1.
 * all_reduce: the whole tensor. send_recv: the tensor received (-1 = C of the rank it originated at).
 * all_to_all: the sequence-sharded side [B*n, -1, d] (the input of seq_to_heads, the result of heads_to_seq).
 */
export const CommPart = Type.Object(
  {
    axis: NatInt("concatenation axis"),
    shape: Type.Array(Type.Integer({ minimum: -1 }), { description: "one rank's tensor; -1 = its token count" }),
  },
  { additionalProperties: false },
);
export type CommPart = Static<typeof CommPart>;

/** Ulysses all_to_all on [B*n, T, d] tensors (batch folded into heads). */
export const AllToAll = Type.Object(
  {
    /**
     * seq_to_heads: [B*n, C, d] -> [B*n/W, N, d]: rank j receives heads j*n/W .. (j+1)*n/W - 1 of every
     * sequence b (result head index b*(n/W) + h'), with every rank's tokens in rank order along axis 1.
     * heads_to_seq: the inverse, [B*n/W, N, d] -> [B*n, C, d].
     */
    direction: Type.Union([Type.Literal("seq_to_heads"), Type.Literal("heads_to_seq")]),
    batch: PosInt("B"),
    /** heads per sequence on the sequence-sharded side (n); the head-sharded side holds n/W */
    heads: PosInt("n"),
    dim: PosInt("d"),
  },
  { additionalProperties: false },
);
export type AllToAll = Static<typeof AllToAll>;

export const CommStartStep = stepSchema(
  "comm_start",
  {
    collective: Collective,
    group: Group,
    /** names the pending collective; the matching comm_wait has the same handle */
    handle: Type.String(),
    /** bytes one rank receives for this collective in one step, max over ranks (compiler/cost/bytes.ts) */
    bytesPerRank: Type.Number({ minimum: 0 }),
    /** one entry per transferred tensor (the in buffers; for a receive-only send_recv, the results); all travel in ONE collective */
    parts: Type.Array(CommPart),
    /** send_recv only: where this rank sends / receives from; a missing neighbour (no wrap) = no send / empty result */
    sendTo: Type.Optional(Peer),
    recvFrom: Type.Optional(Peer),
    /** send_recv only: ranks form a ring (W-1 -> 0) */
    wrap: Type.Optional(Type.Boolean()),
    /** send_recv only: the received data originated at SP rank r - hop (recvFrom prev) or r + hop (next), mod W when wrap; sizes its per-token parts */
    hop: Type.Optional(NatInt("origin distance")),
    /** all_to_all only */
    a2a: Type.Optional(AllToAll),
    /**
     * true: a blocking call at its place in the program, as the reference LASP-1 code issues its receive
     * (dist.recv before any of the layer's compute): schedule-overlap moves neither this comm_start nor its
     * comm_wait, so nothing overlaps it.
     */
    blocking: Type.Optional(Type.Boolean()),
  },
  "in [buffers to send] -> out []: starts one collective on `group` and returns at once. " +
    "all_gather: result i = concat over ranks (rank order) of in[i] along parts[i].axis. " +
    "reduce_scatter: in[i] holds every rank's part side by side along the axis; result = sum over ranks of this rank's part. " +
    "all_reduce: elementwise sum over the group. all_to_all: see a2a. send_recv: sends in to sendTo, receives from recvFrom. " +
    "The in buffers must stay alive until the matching comm_wait.",
);

export const CommWaitStep = stepSchema(
  "comm_wait",
  { collective: Collective, handle: Type.String() },
  "in [] -> out [results, one per in buffer of the matching comm_start, same order]: blocks until the collective " +
    "`handle` completes. A send_recv that received nothing yields empty buffers (consumers read them as zeros).",
);

export const commSteps = [CommStartStep, CommWaitStep] as const;
