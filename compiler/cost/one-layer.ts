// The one-layer models that measure this machine: the benchmarks' rows (bench/lib/specs.ts) and the local
// profile's per-op calibration (hardware/local.ts) are the same spec text, a linear or softmax layer between
// an embedding and a head, batch 1, random tokens.
import type { LinearMethod, SoftmaxMethod } from "../../dsl/spec.ts";

export type LayerKind = "linear" | "softmax";

export interface OneLayerModel {
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  /** the spec's `block`: intra-chunk block of linear layers, tile edge of softmax layers */
  readonly block: { readonly linear: number; readonly softmax: number };
}

/**
 * The model of every benchmark row and of the calibration: small hidden, so the attention layer is a visible
 * share of a step. Blocks: 64 for linear attention, 128 for softmax (the faster of 64/128/256 for each kernel
 * on the wasm backend here; a softmax tile of 64 pays the per-op dispatch cost four times as often as 128).
 */
export const ONE_LAYER_MODEL: OneLayerModel = { hidden: 128, heads: 4, ffn: 128, vocab: 256, block: { linear: 64, softmax: 128 } };

export interface OneLayerConfig {
  readonly kind: LayerKind;
  readonly method: LinearMethod | SoftmaxMethod;
  /** total tokens of the one sequence (batch 1) */
  readonly seq: number;
  readonly ranks: number;
  readonly overlap: boolean;
  readonly model: OneLayerModel;
}

/** The spec text of one configuration. */
export function oneLayerSpecText(c: OneLayerConfig): string {
  const m = c.model;
  const lin = c.kind === "linear" ? c.method : "lasp2";
  const sm = c.kind === "softmax" ? c.method : "lasp2h";
  return [
    `model bench_${c.kind} {`,
    `  vocab ${m.vocab}   hidden ${m.hidden}   heads ${m.heads}`,
    `  ffn ${m.ffn} swiglu   norm rms`,
    `  layers 1 = ${c.kind}`,
    c.kind === "linear" ? "  linear { kind basic  feature identity }" : "  softmax { rope off }",
    `}`,
    `parallel { sp ${c.ranks}  linear ${lin}  softmax ${sm}  overlap ${c.overlap ? "on" : "off"}  block ${m.block[c.kind]} }`,
    `train { seq ${c.seq}  batch 1  steps 1  optimizer adamw lr 1e-3  data random  seed 0 }`,
    "",
  ].join("\n");
}
