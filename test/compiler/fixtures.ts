// Hand-written specs for the compiler tests (independent of the DSL): a pure-linear LASP-2 model, a 1/4
// hybrid LASP-2H model, and a builder for variations.
import type { Spec, LayerSpec, LinearLayerSpec, SoftmaxLayerSpec, ParallelSpec, ModelSpec } from "../../dsl/spec.ts";
import { GRAD_BUCKET_BYTES } from "../../dsl/spec.ts";

const loc = (line: number, col = 1) => ({ file: "fixture.lasp", line, col });

export const basicLinear: LinearLayerSpec = { variant: "basic", feature: "identity", decay: { kind: "none" }, conv: 0, causal: true };
export const softmaxLayer: SoftmaxLayerSpec = { ropeTheta: 10000, causal: true };

export function layers(pattern: string, linear: LinearLayerSpec = basicLinear, softmax: SoftmaxLayerSpec = softmaxLayer): LayerSpec[] {
  return [...pattern].map((c, index) =>
    c === "L"
      ? { index, kind: "linear" as const, linear, loc: loc(10 + index, 3) }
      : { index, kind: "softmax" as const, softmax, loc: loc(10 + index, 3) },
  );
}

export interface SpecOptions {
  pattern?: string;
  linear?: LinearLayerSpec;
  softmax?: SoftmaxLayerSpec;
  model?: Partial<Omit<ModelSpec, "layers" | "loc">>;
  parallel?: Partial<Omit<ParallelSpec, "loc">>;
  seq?: number;
  batch?: number;
}

export function makeSpec(o: SpecOptions = {}): Spec {
  return {
    model: {
      name: "fixture",
      vocab: 64,
      hidden: 32,
      heads: 4,
      kvHeads: 2,
      headDim: 8,
      valueDim: 8,
      ffn: 64,
      ffnKind: "swiglu",
      norm: { kind: "rms", eps: 1e-6 },
      tieEmbeddings: false,
      ...o.model,
      layers: layers(o.pattern ?? "LL", o.linear, o.softmax),
      loc: loc(1),
    },
    parallel: {
      sp: 4,
      dp: 1,
      linear: "lasp2",
      softmax: "lasp2h",
      overlap: true,
      layout: "contiguous",
      block: 16,
      bucket: GRAD_BUCKET_BYTES,
      ...o.parallel,
      loc: loc(30),
    },
    train: {
      seq: o.seq ?? 64,
      batch: o.batch ?? 2,
      accum: 1,
      recompute: false,
      eval: null,
      steps: 10,
      dtype: "float32",
      optimizer: {
        kind: "adamw", lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, warmup: 0,
        schedule: "constant", minLrRatio: 0.1, clip: 1,
      },
      data: { kind: "random" },
      seed: 1,
      loc: loc(40),
    },
  };
}

/** Pure linear, LASP-2, 2 layers, sp 4. */
export const pureLinear = (): Spec => makeSpec({ pattern: "LL" });
/** 1/4 hybrid (L L L N), LASP-2 + LASP-2H, sp 4. */
export const hybrid14 = (): Spec => makeSpec({ pattern: "LLLN" });
