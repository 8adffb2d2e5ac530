// Model dimensions derived from a spec, in one place so passes, shapes and byte formulas agree.
import type { Spec, LayerSpec, FeatureMap } from "../../dsl/spec.ts";

export interface Dims {
  readonly B: number;
  readonly D: number;
  readonly V: number;
  readonly H: number;
  readonly Hkv: number;
  readonly groups: number;
  readonly dk: number;
  readonly dv: number;
  readonly F: number;
  readonly N: number;
  readonly W: number;
  readonly L: number;
}

export function dims(spec: Spec): Dims {
  const m = spec.model;
  return {
    // train.batch counts the sequences of one optimizer step over all DP replicas and micro-batches; the
    // plan runs one micro-batch of one replica: batch / (dp * accum) sequences
    B: Math.max(1, Math.floor(spec.train.batch / (spec.parallel.dp * spec.train.accum))),
    D: m.hidden,
    V: m.vocab,
    H: m.heads,
    Hkv: m.kvHeads,
    groups: Math.max(1, Math.floor(m.heads / m.kvHeads)),
    dk: m.headDim,
    dv: m.valueDim,
    F: m.ffn,
    N: spec.train.seq,
    W: spec.parallel.sp,
    L: m.layers.length,
  };
}

/** Per-head width after a feature map (Based's taylor2 expands d to 1 + d + d^2). */
export function featureDim(map: FeatureMap, d: number): number {
  return map === "taylor2" ? 1 + d + d * d : d;
}

/** The key dim the linear-attention kernels see in this layer (after the feature map). */
export function layerKeyDim(spec: Spec, layer: LayerSpec): number {
  return layer.kind === "linear" && layer.linear !== undefined
    ? featureDim(layer.linear.feature, spec.model.headDim)
    : spec.model.headDim;
}

/** The SP method a layer runs under. */
export function layerMethod(spec: Spec, layer: LayerSpec): string {
  return layer.kind === "linear" ? spec.parallel.linear : spec.parallel.softmax;
}
