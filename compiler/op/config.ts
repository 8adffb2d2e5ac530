// One attention layer as `lasp op` runs it: its configuration, the checks that name the offending flag or
// tensor, and the one-layer Spec the compiler's passes read (batch 1, no embedding, FFN or loss).
import type { Spec, SourceLoc, Layout, LinearMethod, SoftmaxMethod } from "../../dsl/spec.ts";
import { GRAD_BUCKET_BYTES } from "../../dsl/spec.ts";
import { chunkCount } from "../plan/partition.ts";

export type OpKind = "linear-attention" | "softmax-attention";
export const OP_KINDS: readonly OpKind[] = ["linear-attention", "softmax-attention"];
export const OP_METHODS: { readonly [K in OpKind]: readonly string[] } = {
  "linear-attention": ["lasp2", "lasp1", "ring"] satisfies LinearMethod[],
  "softmax-attention": ["lasp2h", "ring", "ulysses"] satisfies SoftmaxMethod[],
};

export interface OpConfig {
  readonly kind: OpKind;
  readonly ranks: number;
  readonly method: string;
  readonly causal: boolean;
  /** block size of the blocked kernels */
  readonly block: number;
  readonly layout: Layout;
  readonly overlap: boolean;
  /** heads, tokens, key and value dims of the whole sequence */
  readonly H: number;
  readonly N: number;
  readonly dk: number;
  readonly dv: number;
  /** per-head decay lambda in (0, 1] (linear, causal only), or null */
  readonly lambdas: readonly number[] | null;
  /** whether the backward (dq, dk, dv from do) runs too */
  readonly backward: boolean;
}

/** A user error of the op's configuration; `subject` is the flag (`--method`) or tensor (`decay`) at fault. */
export interface OpConfigError {
  readonly subject: string;
  readonly message: string;
}

export const OP_LOC: SourceLoc = { file: "lasp-op", line: 0, col: 0 };

/** Every configuration fault, each naming its flag or tensor; [] when the op can run. */
export function checkOpConfig(c: OpConfig): OpConfigError[] {
  const out: OpConfigError[] = [];
  const err = (subject: string, message: string) => out.push({ subject, message });
  const methods = OP_METHODS[c.kind];
  if (!methods.includes(c.method)) err("--method", `--method '${c.method}' is not a ${c.kind} method (one of ${methods.join(", ")})`);
  if (!Number.isInteger(c.ranks) || c.ranks < 1) err("--ranks", `--ranks must be an integer >= 1, got ${c.ranks}`);
  if (!Number.isInteger(c.block) || c.block < 1) err("--block", `--block must be an integer >= 1, got ${c.block}`);
  const chunks = chunkCount(c.ranks, c.layout);
  if (c.N < chunks) err("q", `q has ${c.N} tokens, fewer than the ${chunks} chunks of ${c.ranks} ranks (${c.layout}): some rank would hold no token`);
  if (c.method === "ulysses" && c.H % c.ranks !== 0) err("--ranks", `ulysses needs the heads (${c.H}, axis 0 of q) divisible by --ranks ${c.ranks}`);
  if (c.method === "lasp1" && c.layout === "zigzag") err("--layout", "lasp1 passes the prefix state rank to rank and needs --layout contiguous");
  if (c.method === "lasp1" && !c.causal) err("--causal", "lasp1 is a causal prefix chain: pass --causal (or use lasp2 for a bidirectional layer)");
  if (c.lambdas !== null) {
    if (c.kind !== "linear-attention") err("decay", "decay is only for linear-attention");
    else if (!c.causal) err("decay", "decay needs --causal (o_i sums decay^(i-j) over j <= i)");
    if (c.lambdas.length !== c.H) err("decay", `decay has ${c.lambdas.length} values for ${c.H} heads (shape [H])`);
    const bad = c.lambdas.find((l) => !(l > 0 && l <= 1));
    if (bad !== undefined) err("decay", `decay values must lie in (0, 1], got ${bad}`);
  }
  return out;
}

/** The one-layer Spec of an op: what partition, lowering, overlap and liveness read. */
export function opSpec(c: OpConfig): Spec {
  const linear = c.kind === "linear-attention";
  const decay = c.lambdas === null ? { kind: "none" as const } : { kind: "fixed" as const, lambdas: [...c.lambdas] };
  const layer = linear
    ? { index: 0, kind: "linear" as const, linear: { variant: "basic" as const, feature: "identity" as const, decay, conv: 0, causal: c.causal }, loc: OP_LOC }
    : { index: 0, kind: "softmax" as const, softmax: { ropeTheta: null, causal: c.causal }, loc: OP_LOC };
  return {
    model: {
      name: `op-${c.kind}`,
      vocab: 2,
      hidden: c.H * c.dk,
      heads: c.H,
      kvHeads: c.H,
      headDim: c.dk,
      valueDim: c.dv,
      ffn: 1,
      ffnKind: "gelu",
      norm: { kind: "rms", eps: 1e-6 },
      tieEmbeddings: false,
      layers: [layer],
      loc: OP_LOC,
    },
    parallel: {
      sp: c.ranks,
      dp: 1,
      linear: (linear ? c.method : "lasp2") as LinearMethod,
      softmax: (linear ? "lasp2h" : c.method) as SoftmaxMethod,
      overlap: c.overlap,
      layout: c.layout,
      block: c.block,
      bucket: GRAD_BUCKET_BYTES,
      loc: OP_LOC,
    },
    train: {
      seq: c.N,
      batch: 1,
      accum: 1,
      recompute: false,
      eval: null,
      steps: 0,
      dtype: "float32",
      optimizer: { kind: "adamw", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, warmup: 0, schedule: "constant", minLrRatio: 0, clip: 0 },
      data: { kind: "random" },
      seed: 0,
      loc: OP_LOC,
    },
  };
}
