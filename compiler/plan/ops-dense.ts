// Plan ops for the dense (token-local) parts of the model, forward and backward: no communication.
// Shapes use the notation of schema.ts (B batch, C this rank's tokens, D hidden, V vocab, ...).
import { Type } from "@sinclair/typebox";
import { stepSchema, PosInt } from "./step.ts";

const NormKind = Type.Union([Type.Literal("rms"), Type.Literal("layer")]);
const FeatureMap = Type.Union([
  Type.Literal("identity"),
  Type.Literal("elu1"),
  Type.Literal("relu"),
  Type.Literal("silu"),
  Type.Literal("taylor2"),
  Type.Literal("square"),
]);

export const EmbedStep = stepSchema(
  "embed",
  { vocab: PosInt("V"), dim: PosInt("D") },
  "in [tokens int32 [B*C], weight [V, D]] -> out [x [B*C, D]]: x[i] = weight[tokens[i]].",
);
export const EmbedBwdStep = stepSchema(
  "embed_bwd",
  { vocab: PosInt("V"), dim: PosInt("D") },
  "in [dx [B*C, D], tokens [B*C]] -> out [dweight [V, D]]: scatter-add of dx rows into the token rows, zeros elsewhere.",
);
export const NormStep = stepSchema(
  "norm",
  { kind: NormKind, eps: Type.Number({ exclusiveMinimum: 0 }), dim: PosInt("D") },
  "in [x [M, D], gamma [D]] (+ beta [D] when kind = layer) -> out [y [M, D]]. " +
    "rms: y = x / sqrt(mean(x^2) + eps) * gamma; layer: y = (x - mean) / sqrt(var + eps) * gamma + beta (row-wise).",
);
export const NormBwdStep = stepSchema(
  "norm_bwd",
  { kind: NormKind, eps: Type.Number({ exclusiveMinimum: 0 }), dim: PosInt("D") },
  "in [dy [M, D], x [M, D], gamma [D]] (+ beta when layer) -> out [dx [M, D], dgamma [D]] (+ dbeta [D] when layer).",
);
export const MatmulStep = stepSchema(
  "matmul",
  { transB: Type.Boolean({ description: "w is stored [N, K] and used transposed (tied LM head)" }) },
  "in [x [M, K], w [K, N] (or [N, K] when transB)] -> out [y [M, N]]: y = x w (or x w^T).",
);
export const MatmulBwdStep = stepSchema(
  "matmul_bwd",
  { transB: Type.Boolean() },
  "in [dy [M, N], x [M, K], w] -> out [dx [M, K], dw (shape of w)]: dx = dy w^T (dy w when transB); " +
    "dw = x^T dy (dy^T x when transB).",
);
export const AddStep = stepSchema("add", {}, "in [a, b] (same shape) -> out [a + b]. Residuals and gradient accumulation.");
export const SwigluStep = stepSchema("swiglu", {}, "in [a [M, F], b [M, F]] -> out [silu(a) * b [M, F]].");
export const SwigluBwdStep = stepSchema(
  "swiglu_bwd",
  {},
  "in [dy [M, F], a, b] -> out [da, db]: da = dy * b * silu'(a), db = dy * silu(a).",
);
export const GeluStep = stepSchema("gelu", {}, "in [x [M, F]] -> out [gelu(x)] (tanh approximation).");
export const GeluBwdStep = stepSchema("gelu_bwd", {}, "in [dy, x] -> out [dx = dy * gelu'(x)].");
export const HeadsStep = stepSchema(
  "heads",
  { batch: PosInt("B"), heads: PosInt("n"), dim: PosInt("d") },
  "in [x [B*C, n*d] token-major] -> out [[B*n, C, d]], head index b*n + h. Also the backward of unheads.",
);
export const UnheadsStep = stepSchema(
  "unheads",
  { batch: PosInt("B"), heads: PosInt("n"), dim: PosInt("d") },
  "in [x [B*n, C, d]] -> out [[B*C, n*d] token-major]. Inverse of heads; also the backward of heads.",
);
export const RepeatKvStep = stepSchema(
  "repeat_kv",
  { batch: PosInt("B"), kvHeads: PosInt("Hkv"), groups: PosInt("H / Hkv") },
  "in [x [B*Hkv, T, d]] -> out [[B*Hkv*groups, T, d]]: head b*H + h is kv head b*Hkv + floor(h / groups).",
);
export const RepeatKvBwdStep = stepSchema(
  "repeat_kv_bwd",
  { batch: PosInt("B"), kvHeads: PosInt("Hkv"), groups: PosInt("H / Hkv") },
  "in [dy [B*H, T, d]] -> out [dx [B*Hkv, T, d]]: sum over the `groups` query heads that share a kv head.",
);
export const RopeStep = stepSchema(
  "rope",
  { theta: Type.Number({ exclusiveMinimum: 0 }), dim: PosInt("d (even)") },
  "in [x [B*n, C, d]] -> out [same]: rotary embedding at this rank's GLOBAL token positions (partition.ts), " +
    "pairs (2i, 2i+1), angle pos * theta^(-2i/d).",
);
export const RopeBwdStep = stepSchema(
  "rope_bwd",
  { theta: Type.Number({ exclusiveMinimum: 0 }), dim: PosInt("d") },
  "in [dy [B*n, C, d]] -> out [dx]: the inverse rotation (angle -pos * theta^(-2i/d)).",
);
export const FeatureStep = stepSchema(
  "feature",
  { map: FeatureMap, heads: PosInt("n"), dim: PosInt("d in"), outDim: PosInt("d out (1 + d + d^2 for taylor2)") },
  "in [x [B*C, n*d]] (+ gamma [d], beta [d] when map = square) -> out [[B*C, n*outDim]]: the feature map " +
    "applied per head block. identity, elu1 = elu(x)+1, relu, silu, taylor2 = [1, x, vec(x x^T)/sqrt(2)], " +
    "square = (gamma*x + beta)^2.",
);
export const FeatureBwdStep = stepSchema(
  "feature_bwd",
  { map: FeatureMap, heads: PosInt("n"), dim: PosInt("d in"), outDim: PosInt("d out") },
  "in [dy [B*C, n*outDim], x [B*C, n*d]] (+ gamma, beta when square) -> out [dx] (+ dgamma [d], dbeta [d] when square).",
);
export const TailStep = stepSchema(
  "tail",
  { batch: PosInt("B"), tokens: PosInt("k - 1") },
  "in [x [B*C, w]] -> out [[B*tokens, w]]: the last `tokens` tokens of each sequence of this rank " +
    "(zero rows in front when C < tokens). The halo a rank sends to the next one.",
);
export const TailAddStep = stepSchema(
  "tail_add",
  { batch: PosInt("B"), tokens: PosInt("k - 1") },
  "in [x [B*C, w], t [B*tokens, w] or empty] -> out [x with t added onto the last `tokens` tokens of each " +
    "sequence]; an empty t (last rank: nothing received) leaves x unchanged.",
);
export const ShortConvStep = stepSchema(
  "short_conv",
  { batch: PosInt("B"), kernel: PosInt("k"), channels: PosInt("w") },
  "in [x [B*C, w], halo [B*(k-1), w] or empty, weight [k, w]] -> out [y [B*C, w]]: causal depthwise conv, " +
    "y[t] = sum_j weight[j] * x[t - (k-1) + j]; positions before the chunk read the halo (zeros when empty: rank 0). " +
    "kernel = 1: in [x, weight] (no halo).",
);
export const ShortConvBwdStep = stepSchema(
  "short_conv_bwd",
  { batch: PosInt("B"), kernel: PosInt("k"), channels: PosInt("w") },
  "in [dy [B*C, w], x, halo (or empty), weight] -> out [dx [B*C, w], dhalo [B*(k-1), w], dweight [k, w]]; " +
    "kernel = 1: in [dy, x, weight] -> out [dx, dweight].",
);
export const GateProjStep = stepSchema(
  "gate_proj",
  { batch: PosInt("B"), heads: PosInt("H"), dim: PosInt("dk"), tau: Type.Number({ exclusiveMinimum: 0 }) },
  "in [h [B*C, D], w1 [D, r], w2 [r, H*dk]] -> out [g [B*H, C, dk]]: GLA log-gates " +
    "g = logsigmoid(h w1 w2) / tau (<= 0), moved to the heads layout.",
);
export const GateProjBwdStep = stepSchema(
  "gate_proj_bwd",
  { batch: PosInt("B"), heads: PosInt("H"), dim: PosInt("dk"), tau: Type.Number({ exclusiveMinimum: 0 }) },
  "in [dg [B*H, C, dk], h, w1, w2] -> out [dh [B*C, D], dw1 [D, r], dw2 [r, H*dk]].",
);
export const XentStep = stepSchema(
  "xent",
  { vocab: PosInt("V"), scale: Type.Number({ exclusiveMinimum: 0, description: "1 / (global token count)" }) },
  "in [logits [B*C, V], targets int32 [B*C]] -> out [loss [1]]: scale * sum_i -log softmax(logits_i)[targets_i]. " +
    "This rank's share: the sum over all ranks is the mean loss over the global batch.",
);
export const XentBwdStep = stepSchema(
  "xent_bwd",
  { vocab: PosInt("V"), scale: Type.Number({ exclusiveMinimum: 0 }) },
  "in [logits [B*C, V], targets [B*C]] -> out [dlogits [B*C, V]] = scale * (softmax(logits) - onehot(targets)). " +
    "The first backward step (d loss = 1).",
);

export const denseSteps = [
  EmbedStep, EmbedBwdStep, NormStep, NormBwdStep, MatmulStep, MatmulBwdStep, AddStep, SwigluStep, SwigluBwdStep,
  GeluStep, GeluBwdStep, HeadsStep, UnheadsStep, RepeatKvStep, RepeatKvBwdStep, RopeStep, RopeBwdStep,
  FeatureStep, FeatureBwdStep, TailStep, TailAddStep, ShortConvStep, ShortConvBwdStep, GateProjStep,
  GateProjBwdStep, XentStep, XentBwdStep,
] as const;
