// The model section -> ModelSpec: dimensions with their defaults and shape checks, then the layer mix
// expanded and each layer's options resolved (model-level block, then `layer` overrides in order).
import type { Span } from "../diagnostic.ts";
import type { Setting } from "../ast.ts";
import type { LayerSpec, ModelSpec } from "../spec.ts";
import type { Ctx } from "./context.ts";
import { resolveMix, type MixEntry } from "./mix.ts";
import { finishLinear, finishSoftmax, readLinear, readSoftmax, type LinearOpts, type SoftmaxOpts } from "./layer-options.ts";

const FFN_KINDS = ["swiglu", "gelu"] as const;
const NORMS = ["rms", "layer"] as const;
export const DEFAULT_NORM_EPS = 1e-5;

interface Dims {
  vocab?: number; hidden?: number; heads?: number; kvHeads?: number; headDim?: number; valueDim?: number;
}

/** Resolves the model section; undefined when it has an error (all of them reported). */
export function checkModel(ctx: Ctx, section: Setting | undefined, fileSpan: Span): ModelSpec | undefined {
  if (section === undefined) {
    if (!ctx.suggested.has("model")) ctx.error("missing", "no model section: a spec needs `model NAME { ... }`", fileSpan);
    return undefined;
  }
  const errorsBefore = ctx.diagnostics.filter((d) => d.severity === "error").length;
  const b = ctx.index("model", section.children, ["layer"]);
  const name = section.values[0]?.kind === "word" ? section.values[0].text : "model";
  const need = (key: "vocab" | "hidden" | "heads" | "layers"): Setting | undefined => {
    const s = b.get(key);
    if (s === undefined && !ctx.suggested.has(key)) ctx.error("missing", `model '${name}' needs '${key}'`, section.nameSpan);
    return s;
  };
  const one = (s: Setting | undefined, min: number): number | undefined => (s === undefined ? undefined : ctx.int(ctx.first(s), s.name, min));
  const d: Dims = {
    vocab: one(need("vocab"), 2),
    hidden: one(need("hidden"), 1),
    heads: one(need("heads"), 1),
    kvHeads: one(b.get("kv_heads"), 1),
    headDim: one(b.get("head_dim"), 1),
    valueDim: one(b.get("value_dim"), 1),
  };
  const heads = d.heads;
  if (heads !== undefined && d.kvHeads !== undefined && (d.kvHeads > heads || heads % d.kvHeads !== 0)) {
    ctx.error("kvHeadsDivideHeads", `kv_heads ${d.kvHeads} must divide heads ${heads} (grouped-query attention shares each kv head among heads/kv_heads query heads)`, b.get("kv_heads")!.values[0]!.span);
  }
  let headDim = d.headDim;
  if (headDim === undefined && d.hidden !== undefined && heads !== undefined) {
    if (d.hidden % heads !== 0) {
      ctx.error("headsDivideHidden", `hidden ${d.hidden} is not divisible by heads ${heads}: set head_dim, or pick heads that divide hidden`, b.get("heads")!.values[0]!.span, {
        notes: [{ message: "hidden is set here", span: b.get("hidden")!.span }],
      });
    } else headDim = d.hidden / heads;
  }

  // ffn, norm, switches
  const ffnS = b.get("ffn");
  const ffn = ffnS !== undefined ? ctx.int(ffnS.values[0] ?? ctx.first(ffnS), "ffn", 1) : d.hidden !== undefined ? 4 * d.hidden : undefined;
  const ffnKind = ffnS?.values[1] !== undefined ? ctx.word(ffnS.values[1], "ffn kind", FFN_KINDS) : "swiglu";
  const normS = b.get("norm");
  const normKind = normS?.values[0] !== undefined ? ctx.word(ctx.first(normS), "norm", NORMS) : "rms";
  const epsS = normS !== undefined ? ctx.index("norm", normS.children).get("eps") : undefined;
  const eps = epsS !== undefined ? ctx.number(ctx.first(epsS), "eps", { above: 0, max: 1 }) : DEFAULT_NORM_EPS;
  const tieS = b.get("tie_embeddings");
  const tie = tieS !== undefined ? ctx.onOff(ctx.first(tieS), "tie_embeddings") : false;
  const causalS = b.get("causal");
  const causal = causalS !== undefined ? ctx.onOff(ctx.first(causalS), "causal") : true;

  // layers
  const layersS = need("layers");
  const mix = layersS !== undefined ? resolveMix(ctx, layersS) : undefined;
  const linearS = b.get("linear");
  const softmaxS = b.get("softmax");
  const baseLinear = linearS !== undefined ? readLinear(ctx, linearS) : {};
  const baseSoftmax = softmaxS !== undefined ? readSoftmax(ctx, softmaxS) : {};
  const layers =
    mix !== undefined && heads !== undefined && causal !== undefined
      ? resolveLayers(ctx, mix, b.all("layer"), { linear: baseLinear, softmax: baseSoftmax }, heads, { causal, ...(causalS !== undefined ? { causalSpan: causalS.span } : {}) })
      : undefined;
  if (mix !== undefined && mix.length > 0) {
    if (linearS !== undefined && !mix.some((l) => l.kind === "linear")) {
      ctx.warn("optionNotApplicable", "the model has no linear layers: these options are unused", linearS.nameSpan);
    }
    if (softmaxS !== undefined && !mix.some((l) => l.kind === "softmax")) {
      ctx.warn("optionNotApplicable", "the model has no softmax layers: these options are unused", softmaxS.nameSpan);
    }
  }

  if (layers !== undefined && headDim !== undefined) warnTaylor(ctx, layers, headDim, b.get("linear"), b.get("head_dim") ?? b.get("heads"));

  const errorsAfter = ctx.diagnostics.filter((x) => x.severity === "error").length;
  if (errorsAfter > errorsBefore) return undefined;
  if (d.vocab === undefined || d.hidden === undefined || heads === undefined || headDim === undefined) return undefined;
  if (ffn === undefined || ffnKind === undefined || normKind === undefined || eps === undefined) return undefined;
  if (tie === undefined || layers === undefined) return undefined;
  return {
    name,
    vocab: d.vocab,
    hidden: d.hidden,
    heads,
    kvHeads: d.kvHeads ?? heads,
    headDim,
    valueDim: d.valueDim ?? headDim,
    ffn,
    ffnKind,
    norm: { kind: normKind, eps },
    tieEmbeddings: tie,
    layers,
    loc: ctx.loc(section.nameSpan),
  };
}

interface LayerState {
  kind: "linear" | "softmax";
  linear: LinearOpts;
  softmax: SoftmaxOpts;
  span: Span;
}

/** Indices picked by `layer 0..3, 7`, checked against the layer count. */
function selected(ctx: Ctx, o: Setting, count: number): number[] {
  const out: number[] = [];
  for (const sel of o.select ?? []) {
    const from = ctx.int(sel.from, "layer index", 0);
    const to = sel.to !== undefined ? ctx.int(sel.to, "layer index", 0) : from;
    if (from === undefined || to === undefined) continue;
    if (to < from) {
      ctx.error("layerIndex", `layer range ${from}..${to} is empty: write the lower index first`, sel.span);
      continue;
    }
    if (to >= count) {
      ctx.error("layerIndex", `layer ${to} does not exist: the model has ${count} layers (0..${count - 1})`, sel.span);
      continue;
    }
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

function resolveLayers(
  ctx: Ctx, mix: readonly MixEntry[], overrides: readonly Setting[],
  base: { linear: LinearOpts; softmax: SoftmaxOpts }, heads: number, model: { causal: boolean; causalSpan?: Span },
): LayerSpec[] | undefined {
  const state: LayerState[] = mix.map((m) => ({ kind: m.kind, linear: base.linear, softmax: base.softmax, span: m.span }));
  for (const o of overrides) {
    const idx = selected(ctx, o, mix.length);
    const body = ctx.index("layer", o.children);
    const lin = body.get("linear");
    const soft = body.get("softmax");
    if (lin !== undefined) {
      const opts = readLinear(ctx, lin);
      const hit = idx.filter((i) => state[i]!.kind === "linear");
      if (idx.length > 0 && hit.length === 0) {
        ctx.error("overrideKind", `'linear' options for ${describe(idx)}, which ${idx.length === 1 ? "is a softmax layer" : "are all softmax layers"}`, lin.nameSpan);
      }
      for (const i of hit) state[i] = { ...state[i]!, linear: { ...state[i]!.linear, ...opts }, span: o.nameSpan };
    }
    if (soft !== undefined) {
      const opts = readSoftmax(ctx, soft);
      const hit = idx.filter((i) => state[i]!.kind === "softmax");
      if (idx.length > 0 && hit.length === 0) {
        ctx.error("overrideKind", `'softmax' options for ${describe(idx)}, which ${idx.length === 1 ? "is a linear layer" : "are all linear layers"}`, soft.nameSpan);
      }
      for (const i of hit) state[i] = { ...state[i]!, softmax: { ...state[i]!.softmax, ...opts }, span: o.nameSpan };
    }
  }
  const out: LayerSpec[] = [];
  let ok = true;
  state.forEach((l, index) => {
    const loc = ctx.loc(l.span);
    if (l.kind === "softmax") {
      out.push({ index, kind: "softmax", softmax: finishSoftmax(l.softmax, model.causal), loc });
      return;
    }
    const linear = finishLinear(ctx, l.linear, heads, model, l.span);
    if (linear === undefined) ok = false;
    else out.push({ index, kind: "linear", linear, loc });
  });
  return ok ? out : undefined;
}

/** taylor2 maps dk to 1 + dk + dk^2 features: fine for Based's 16, a memory wall at 128. */
function warnTaylor(ctx: Ctx, layers: readonly LayerSpec[], headDim: number, linear: Setting | undefined, dims: Setting | undefined): void {
  const features = 1 + headDim + headDim * headDim;
  if (headDim <= 32 || !layers.some((l) => l.linear?.feature === "taylor2")) return;
  ctx.warn("featureBlowup", `the taylor2 feature map turns head_dim ${headDim} into ${features} features per head (a ${features} x value_dim state); Based uses a head_dim of about 16`, linear?.nameSpan ?? dims?.nameSpan, {
    ...(dims !== undefined ? { notes: [{ message: "the head dim comes from here", span: dims.span }] } : {}),
  });
}

function describe(idx: readonly number[]): string {
  return idx.length === 1 ? `layer ${idx[0]}` : `layers ${idx[0]}..${idx[idx.length - 1]}`;
}
