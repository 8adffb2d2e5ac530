// One-layer benchmark models: a .lasp spec text per (layer kind, method, N, ranks, overlap), compiled to a
// plan through the real DSL and compiler, so the benchmarks time exactly what `lasp run` would execute.
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { parseSpec } from "../../dsl/index.ts";
import type { LinearMethod, SoftmaxMethod } from "../../dsl/spec.ts";
import { ONE_LAYER_MODEL, oneLayerSpecText, type OneLayerConfig, type OneLayerModel } from "../../compiler/cost/one-layer.ts";

export type { LayerKind } from "../../compiler/cost/one-layer.ts";
export type Method = LinearMethod | SoftmaxMethod;

export const LINEAR_METHODS: readonly LinearMethod[] = ["lasp2", "lasp1", "ring"];
export const SOFTMAX_METHODS: readonly SoftmaxMethod[] = ["lasp2h", "ring", "ulysses"];

/** The model every benchmark row uses (compiler/cost/one-layer.ts: also the local profile's calibration model). */
export type BenchModel = OneLayerModel;
export const DEFAULT_MODEL: BenchModel = ONE_LAYER_MODEL;

export type BenchConfig = OneLayerConfig;

/** The spec text of one configuration (a one-layer model, batch 1, random tokens). */
export const specText = oneLayerSpecText;

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
