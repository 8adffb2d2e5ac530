// The execution plan: one SPMD program that every rank runs (forward, backward, gradient sync), as a TypeBox
// schema = the single source of the Plan TypeScript types and of plan.schema.json (write-schema.ts).
//
// Shapes in the op docs: B = sequences per data-parallel replica (train.batch / dp), C = tokens this SP rank
// holds (partition.ts; differs per rank when W does not divide N), S = segments per rank (1 contiguous,
// 2 zigzag), W = SP size, N = train.seq, D = hidden, V = vocab, H / Hkv = heads / kv heads, dk / dv =
// per-head key / value dims, F = ffn. Batch is folded into heads: head index b*H + h.
// The interpreter runs `forward`, then `backward`, then `gradSync`, one step at a time, in order; a step
// reads its `in` buffers (params by name, `tokens`, `targets`, or earlier outputs) and writes its `out`.
import { Type, type Static } from "@sinclair/typebox";
import { Spec } from "../../dsl/spec.ts";
import { denseSteps } from "./ops-dense.ts";
import { attentionSteps } from "./ops-attention.ts";
import { commSteps, Collective } from "./ops-comm.ts";
import { Phase } from "./step.ts";

export { Phase } from "./step.ts";
export { Collective, Group, CommPart, AllToAll, Peer, TOKEN_AXIS } from "./ops-comm.ts";

/** Every plan step: a flat union discriminated by `op`; see the ops-*.ts files for each op's doc. */
export const Step = Type.Union([...denseSteps, ...attentionSteps, ...commSteps], { $id: "Step" });
export type Step = Static<typeof Step>;
export type StepOp = Step["op"];
export type StepOf<K extends StepOp> = Extract<Step, { op: K }>;

export const Init = Type.Union([
  Type.Object({ kind: Type.Literal("normal"), std: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal("ones") }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal("zeros") }, { additionalProperties: false }),
]);
export type Init = Static<typeof Init>;

/** A weight, replicated on every rank; the buffer of the same name holds it during a step. */
export const Param = Type.Object(
  {
    name: Type.String(),
    shape: Type.Array(Type.Integer({ minimum: 1 })),
    init: Init,
    layer: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    /** the buffer that holds this weight's gradient, summed over all ranks, after gradSync */
    grad: Type.String(),
  },
  { additionalProperties: false },
);
export type Param = Static<typeof Param>;

/** world = sp * dp; world rank = dpIndex * sp + spIndex; the SP group of a rank is its sp consecutive ranks. */
export const Mesh = Type.Object(
  { sp: Type.Integer({ minimum: 1 }), dp: Type.Integer({ minimum: 1 }), world: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type Mesh = Static<typeof Mesh>;

export const CommEstimate = Type.Object(
  {
    op: Collective,
    phase: Phase,
    handle: Type.String(),
    /** bytes one rank receives for this op in one training step, max over ranks */
    bytesPerRank: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type CommEstimate = Static<typeof CommEstimate>;

export const LayerEstimate = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    kind: Type.Union([Type.Literal("linear"), Type.Literal("softmax")]),
    method: Type.String(),
    comm: Type.Array(CommEstimate),
    /** max over SP ranks of this layer's floating-point operations in one step */
    flopsForward: Type.Number({ minimum: 0 }),
    flopsBackward: Type.Number({ minimum: 0 }),
    /** max over SP ranks of the bytes of this layer's forward buffers kept alive for the backward */
    activationBytes: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type LayerEstimate = Static<typeof LayerEstimate>;

export const Totals = Type.Object(
  {
    flopsForward: Type.Number({ minimum: 0 }),
    flopsBackward: Type.Number({ minimum: 0 }),
    activationBytes: Type.Number({ minimum: 0 }),
    /** max over ranks of the bytes of live buffers (weights excluded) at any step, following the free lists */
    peakBytes: Type.Optional(Type.Number({ minimum: 0 })),
    commBytesForward: Type.Number({ minimum: 0 }),
    commBytesBackward: Type.Number({ minimum: 0 }),
    commBytesGradSync: Type.Number({ minimum: 0 }),
    paramCount: Type.Integer({ minimum: 0 }),
    paramBytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type Totals = Static<typeof Totals>;

export const Estimates = Type.Object(
  {
    /** tokens held by each SP rank, rank order */
    rankTokens: Type.Array(Type.Integer({ minimum: 0 })),
    layers: Type.Array(LayerEstimate),
    totals: Totals,
  },
  { additionalProperties: false },
);
export type Estimates = Static<typeof Estimates>;

export const Plan = Type.Object(
  {
    format: Type.Literal("lasp-plan/1"),
    spec: Spec,
    mesh: Mesh,
    params: Type.Array(Param),
    /** input buffers the data loader fills before forward: this rank's tokens and next-token targets, int32 [B*C] */
    inputs: Type.Object({ tokens: Type.String(), targets: Type.String() }, { additionalProperties: false }),
    /** buffer [1] holding this rank's share of the loss after forward */
    loss: Type.String(),
    forward: Type.Array(Step),
    backward: Type.Array(Step),
    gradSync: Type.Array(Step),
    estimates: Estimates,
    /** the spec file and the sha256 of its text (empty strings for specs built in code) */
    source: Type.Object({ file: Type.String(), hash: Type.String() }, { additionalProperties: false }),
  },
  { $id: "https://lasp.dev/plan.schema.json", title: "lasp execution plan", additionalProperties: false },
);
export type Plan = Static<typeof Plan>;
