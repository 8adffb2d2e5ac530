// The resolved model spec: what the parser + checker hand to the compiler, and what a plan embeds.
// TypeBox schema = single source of truth for the TypeScript type and the JSON schema (ajv).
import { Type, type Static } from "@sinclair/typebox";

/** A place in a spec file. line and col are 1-based. */
export const SourceLoc = Type.Object(
  {
    file: Type.String(),
    line: Type.Integer({ minimum: 0 }),
    col: Type.Integer({ minimum: 0 }),
  },
  { $id: "SourceLoc", additionalProperties: false },
);
export type SourceLoc = Static<typeof SourceLoc>;

export const LinearVariant = Type.Union([
  Type.Literal("basic"),
  Type.Literal("lightning"),
  Type.Literal("retention"),
  Type.Literal("gla"),
  Type.Literal("based"),
  Type.Literal("rebased"),
]);
export type LinearVariant = Static<typeof LinearVariant>;

/** Feature map applied to q and k of a linear layer (identity = plain linear attention). */
export const FeatureMap = Type.Union([
  Type.Literal("identity"),
  Type.Literal("elu1"), // elu(x) + 1
  Type.Literal("relu"),
  Type.Literal("silu"),
  Type.Literal("taylor2"), // Based: 1 + x + x^2/2 (flattened outer product), dk -> 1 + dk + dk^2
  Type.Literal("square"), // Rebased: (gamma * x + beta)^2, elementwise
]);
export type FeatureMap = Static<typeof FeatureMap>;

/**
 * Decay of a linear layer. none: lambda = 1. fixed: one lambda in (0,1] per head (Lightning,
 * Retention). gate: data-dependent per-token per-key-dim gates (GLA) from a low-rank projection.
 */
export const Decay = Type.Union([
  Type.Object({ kind: Type.Literal("none") }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal("fixed"),
      /** lambda per attention head, length = heads */
      lambdas: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal("gate"),
      /** rank of the low-rank gate projection (GLA uses 16) */
      rank: Type.Integer({ minimum: 1 }),
      /** temperature: alpha = sigmoid(x Wa)^(1/tau) */
      tau: Type.Number({ exclusiveMinimum: 0 }),
    },
    { additionalProperties: false },
  ),
]);
export type Decay = Static<typeof Decay>;

export const LinearLayerSpec = Type.Object(
  {
    variant: LinearVariant,
    feature: FeatureMap,
    decay: Decay,
    /** short causal convolution kernel on q, k, v (0 = none); needs a halo exchange under SP */
    conv: Type.Integer({ minimum: 0, maximum: 16 }),
    causal: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type LinearLayerSpec = Static<typeof LinearLayerSpec>;

export const SoftmaxLayerSpec = Type.Object(
  {
    /** RoPE base; null = no rotary embedding */
    ropeTheta: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()]),
    causal: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type SoftmaxLayerSpec = Static<typeof SoftmaxLayerSpec>;

/** One layer after the layer mix is expanded. Exactly one of linear / softmax is set. */
export const LayerSpec = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    kind: Type.Union([Type.Literal("linear"), Type.Literal("softmax")]),
    linear: Type.Optional(LinearLayerSpec),
    softmax: Type.Optional(SoftmaxLayerSpec),
    /** where the layer (its entry in the layer mix, or its override) was written */
    loc: SourceLoc,
  },
  { additionalProperties: false },
);
export type LayerSpec = Static<typeof LayerSpec>;

export const ModelSpec = Type.Object(
  {
    name: Type.String(),
    vocab: Type.Integer({ minimum: 2 }),
    hidden: Type.Integer({ minimum: 1 }),
    heads: Type.Integer({ minimum: 1 }),
    kvHeads: Type.Integer({ minimum: 1 }),
    /** per-head query/key dim (default hidden / heads) */
    headDim: Type.Integer({ minimum: 1 }),
    /** per-head value dim (default headDim) */
    valueDim: Type.Integer({ minimum: 1 }),
    ffn: Type.Integer({ minimum: 1 }),
    ffnKind: Type.Union([Type.Literal("swiglu"), Type.Literal("gelu")]),
    norm: Type.Object(
      { kind: Type.Union([Type.Literal("rms"), Type.Literal("layer")]), eps: Type.Number({ exclusiveMinimum: 0 }) },
      { additionalProperties: false },
    ),
    tieEmbeddings: Type.Boolean(),
    layers: Type.Array(LayerSpec, { minItems: 1 }),
    loc: SourceLoc,
  },
  { additionalProperties: false },
);
export type ModelSpec = Static<typeof ModelSpec>;

export const LinearMethod = Type.Union([Type.Literal("lasp2"), Type.Literal("lasp1"), Type.Literal("ring")]);
export type LinearMethod = Static<typeof LinearMethod>;
export const SoftmaxMethod = Type.Union([Type.Literal("lasp2h"), Type.Literal("ring"), Type.Literal("ulysses")]);
export type SoftmaxMethod = Static<typeof SoftmaxMethod>;
export const Layout = Type.Union([Type.Literal("contiguous"), Type.Literal("zigzag")]);
export type Layout = Static<typeof Layout>;

/** Default gradient bucket: bytes of float32 gradients per all-reduce (DDP's default bucket_cap_mb is 25). */
export const GRAD_BUCKET_BYTES = 25 * 2 ** 20;

export const ParallelSpec = Type.Object(
  {
    sp: Type.Integer({ minimum: 1 }),
    dp: Type.Integer({ minimum: 1 }),
    linear: LinearMethod,
    softmax: SoftmaxMethod,
    overlap: Type.Boolean(),
    layout: Layout,
    /** block size used inside a rank for the blocked intra-chunk kernels */
    block: Type.Integer({ minimum: 1 }),
    /** bytes of float32 weight gradients per all-reduce bucket (a larger tensor goes alone) */
    bucket: Type.Integer({ minimum: 1 }),
    loc: SourceLoc,
  },
  { additionalProperties: false },
);
export type ParallelSpec = Static<typeof ParallelSpec>;

export const DataSpec = Type.Union([
  Type.Object(
    {
      kind: Type.Literal("mqar"),
      /** key-value pairs in the context */
      pairs: Type.Integer({ minimum: 1 }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal("random") }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal("text"),
      /** path to a UTF-8 text file, byte-level tokens; "builtin:<name>" for a corpus the project ships */
      path: Type.String(),
    },
    { additionalProperties: false },
  ),
]);
export type DataSpec = Static<typeof DataSpec>;

export const OptimizerSpec = Type.Object(
  {
    kind: Type.Literal("adamw"),
    lr: Type.Number({ exclusiveMinimum: 0 }),
    beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
    eps: Type.Number({ exclusiveMinimum: 0 }),
    weightDecay: Type.Number({ minimum: 0 }),
    warmup: Type.Integer({ minimum: 0 }),
    schedule: Type.Union([Type.Literal("cosine"), Type.Literal("constant")]),
    minLrRatio: Type.Number({ minimum: 0, maximum: 1 }),
    /** global gradient-norm clip; 0 = off */
    clip: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type OptimizerSpec = Static<typeof OptimizerSpec>;

export const EvalSpec = Type.Object(
  {
    /** held-out loss every this many optimizer steps, and after the last */
    every: Type.Integer({ minimum: 1 }),
    /** global batches (train.batch sequences each) per evaluation: the same ones every time */
    batches: Type.Integer({ minimum: 1 }),
    /** text data: the fraction of the corpus, at its end, kept out of training for evaluation */
    holdout: Type.Number({ minimum: 0, maximum: 0.5 }),
  },
  { additionalProperties: false },
);
export type EvalSpec = Static<typeof EvalSpec>;

export const TrainSpec = Type.Object(
  {
    /** total sequence length N (tokens per sequence, before the SP split) */
    seq: Type.Integer({ minimum: 1 }),
    /** sequences per optimizer step, over all data-parallel replicas and micro-batches */
    batch: Type.Integer({ minimum: 1 }),
    /** gradient accumulation: micro-batches per optimizer step (the gradient all-reduce runs once, after the last) */
    accum: Type.Integer({ minimum: 1 }),
    steps: Type.Integer({ minimum: 0 }),
    dtype: Type.Literal("float32"),
    optimizer: OptimizerSpec,
    data: DataSpec,
    seed: Type.Integer({ minimum: 0 }),
    /** held-out evaluation (forward only, no gradient); null = none */
    eval: Type.Union([EvalSpec, Type.Null()]),
    /**
     * activation recomputation: a layer's forward runs again in its backward instead of keeping its
     * activations; true in every layer, false in none, N (>= 1) in the first N layers
     */
    recompute: Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 })]),
    loc: SourceLoc,
  },
  { additionalProperties: false },
);
export type TrainSpec = Static<typeof TrainSpec>;

export const Spec = Type.Object(
  {
    model: ModelSpec,
    parallel: ParallelSpec,
    train: TrainSpec,
  },
  { $id: "Spec", additionalProperties: false },
);
export type Spec = Static<typeof Spec>;

/** How many layers recompute their forward in the backward (train.recompute): the first this many. */
export function recomputedLayers(spec: { train: { recompute: boolean | number }; model: { layers: readonly unknown[] } }): number {
  const r = spec.train.recompute;
  return r === true ? spec.model.layers.length : r === false ? 0 : Math.min(r, spec.model.layers.length);
}
