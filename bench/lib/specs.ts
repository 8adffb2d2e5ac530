// One-layer benchmark models: a .lasp spec text per (layer kind, method, N, ranks, overlap), compiled to a
// plan through the real DSL and compiler, so the benchmarks time exactly what `lasp run` would execute.
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { parseSpec } from "../../dsl/index.ts";
import type { LinearMethod, SoftmaxMethod } from "../../dsl/spec.ts";

export type LayerKind = "linear" | "softmax";
export type Method = LinearMethod | SoftmaxMethod;

export const LINEAR_METHODS: readonly LinearMethod[] = ["lasp2", "lasp1", "ring"];
export const SOFTMAX_METHODS: readonly SoftmaxMethod[] = ["lasp2h", "ring", "ulysses"];

/** The model every benchmark row uses; small hidden so the attention layer is a visible share of a step. */
export interface BenchModel {
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly vocab: number;
  /** the spec's `block`: intra-chunk block of linear layers, tile edge of softmax layers */
  readonly block: { readonly linear: number; readonly softmax: number };
}

/**
 * Blocks: 64 for linear attention, 128 for softmax (the faster of 64/128/256 for each kernel on the wasm
 * backend here; a softmax tile of 64 pays the per-op dispatch cost four times as often as 128).
 */
export const DEFAULT_MODEL: BenchModel = { hidden: 128, heads: 4, ffn: 128, vocab: 256, block: { linear: 64, softmax: 128 } };

export interface BenchConfig {
  readonly kind: LayerKind;
  readonly method: Method;
  /** total tokens of the one sequence (batch 1) */
  readonly seq: number;
  readonly ranks: number;
  readonly overlap: boolean;
  readonly model: BenchModel;
}

/** The spec text of one configuration (a one-layer model, batch 1, random tokens). */
export function specText(c: BenchConfig): string {
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

/** Compiles one configuration; any error diagnostic is a bug in the benchmark and throws. */
export function compileConfig(c: BenchConfig): Plan {
  const text = specText(c);
  const file = `bench-${c.kind}-${c.method}-${c.seq}.lasp`;
  const parsed = parseSpec(text, file);
  const errs = parsed.diagnostics.filter((d) => d.severity === "error");
  if (parsed.spec === undefined || errs.length > 0) throw new Error(`bench spec does not parse:\n${text}\n${errs.map((d) => d.message).join("\n")}`);
  const r = compile(parsed.spec, { source: { file, text } });
  if (r.plan === null) throw new Error(`bench spec does not compile:\n${text}\n${r.diagnostics.map((d) => d.message).join("\n")}`);
  return r.plan;
}

/** "4K", "64K", "1536" */
export function fmtTokens(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}K` : String(n);
}

/** Parses "4K,8K,16384" into token counts ("" or "none": no lengths). */
export function parseLengths(s: string): number[] {
  if (s.trim() === "" || s === "none") return [];
  return s.split(",").map((x) => {
    const m = /^(\d+)([kK]?)$/.exec(x.trim());
    if (m === null) throw new Error(`bad length '${x}' (expected e.g. 4K or 4096)`);
    return Number(m[1]) * (m[2] ? 1024 : 1);
  });
}
