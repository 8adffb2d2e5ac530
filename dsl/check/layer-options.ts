// Linear and softmax layer options: read what a block sets explicitly (model-level block, then layer
// overrides, merged in order), then fill the variant's defaults and check the options fit together.
import type { Span } from "../diagnostic.ts";
import type { Setting } from "../ast.ts";
import type { Decay, FeatureMap, LinearLayerSpec, LinearVariant, SoftmaxLayerSpec } from "../spec.ts";
import type { Ctx } from "./context.ts";

interface At<T> {
  readonly value: T;
  readonly span: Span;
}

export type DecayOpt =
  | { readonly kind: "none" | "slopes"; readonly span: Span }
  | { readonly kind: "fixed"; readonly lambdas: readonly number[]; readonly perHead: boolean; readonly span: Span }
  | { readonly kind: "gate"; readonly rank: number; readonly tau: number; readonly span: Span };

export interface LinearOpts {
  readonly variant?: At<LinearVariant>;
  readonly feature?: At<FeatureMap>;
  readonly decay?: DecayOpt;
  readonly conv?: At<number>;
  readonly causal?: At<boolean>;
}

export interface SoftmaxOpts {
  readonly rope?: At<number | null>;
  readonly causal?: At<boolean>;
}

export const VARIANTS: readonly LinearVariant[] = ["basic", "lightning", "retention", "gla", "based", "rebased"];
export const FEATURES: readonly FeatureMap[] = ["identity", "elu1", "relu", "silu", "taylor2", "square"];
const DECAYS = ["none", "fixed", "slopes", "gate"] as const;
export const DEFAULT_ROPE_THETA = 10000;
const GATE_RANK = 16;
const GATE_TAU = 16;

function at<T>(value: T | undefined, span: Span): At<T> | undefined {
  return value === undefined ? undefined : { value, span };
}

function readDecay(ctx: Ctx, s: Setting): DecayOpt | undefined {
  if (s.values[0] === undefined) {
    ctx.error("badValue", "'decay' needs a form: none, fixed LAMBDA, fixed [..], slopes or gate", s.nameSpan);
    return undefined;
  }
  const kind = ctx.word(s.values[0], "decay", DECAYS);
  if (kind === undefined) return undefined;
  const params = ctx.index("decay", s.children);
  const rankS = params.get("rank");
  const tauS = params.get("tau");
  if (kind !== "gate") {
    for (const p of [rankS, tauS]) {
      if (p !== undefined) ctx.error("optionNotApplicable", `'${p.name}' applies only to 'decay gate'`, p.nameSpan);
    }
  }
  const arg = s.values[1];
  if (kind !== "fixed" && arg !== undefined) {
    ctx.error("badValue", `'decay ${kind}' takes no value`, arg.span);
    return undefined;
  }
  switch (kind) {
    case "none":
    case "slopes":
      return { kind, span: s.span };
    case "gate": {
      const rank = rankS !== undefined ? ctx.int(ctx.first(rankS), "rank", 1, 4096) : GATE_RANK;
      const tau = tauS !== undefined ? ctx.number(ctx.first(tauS), "tau", { above: 0 }) : GATE_TAU;
      return rank === undefined || tau === undefined ? undefined : { kind, rank, tau, span: s.span };
    }
    case "fixed": {
      if (arg === undefined) {
        ctx.error("badValue", "'decay fixed' needs a lambda in (0, 1] or a list of them, one per head", s.span);
        return undefined;
      }
      const items = arg.kind === "list" ? arg.items : [arg];
      if (items.length === 0) {
        ctx.error("lambdaCount", "'decay fixed []' needs one lambda per head", arg.span);
        return undefined;
      }
      const lambdas: number[] = [];
      for (const v of items) {
        const x = ctx.number(v, "lambda");
        if (x === undefined) return undefined;
        if (!(x > 0 && x <= 1)) {
          ctx.error("lambdaRange", `decay lambda must be in (0, 1], got ${v.kind === "number" ? v.text : x}`, v.span);
          return undefined;
        }
        lambdas.push(x);
      }
      return { kind, lambdas, perHead: arg.kind === "list", span: s.span };
    }
  }
}

/** What one `linear { ... }` block sets. */
export function readLinear(ctx: Ctx, block: Setting): LinearOpts {
  const b = ctx.index("linear", block.children);
  const kind = b.get("kind");
  const feature = b.get("feature");
  const decay = b.get("decay");
  const conv = b.get("conv");
  const causal = b.get("causal");
  const out: { -readonly [K in keyof LinearOpts]: LinearOpts[K] } = {};
  if (kind !== undefined) out.variant = at(ctx.word(ctx.first(kind), "linear kind", VARIANTS), kind.span);
  if (feature !== undefined) out.feature = at(ctx.word(ctx.first(feature), "feature map", FEATURES), feature.span);
  if (decay !== undefined) out.decay = readDecay(ctx, decay);
  if (conv !== undefined) out.conv = at(ctx.int(ctx.first(conv), "conv", 0, 16), conv.span);
  if (causal !== undefined) out.causal = at(ctx.onOff(ctx.first(causal), "causal"), causal.span);
  for (const k of Object.keys(out) as (keyof LinearOpts)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** What one `softmax { ... }` block sets. */
export function readSoftmax(ctx: Ctx, block: Setting): SoftmaxOpts {
  const b = ctx.index("softmax", block.children);
  const out: { -readonly [K in keyof SoftmaxOpts]: SoftmaxOpts[K] } = {};
  const rope = b.get("rope");
  if (rope !== undefined) {
    const theta = ctx.index("rope", rope.children).get("theta");
    const onOff = rope.values[0] !== undefined ? ctx.onOff(ctx.first(rope), "rope") : true;
    if (onOff === false && theta !== undefined) {
      ctx.error("optionNotApplicable", "'theta' does not apply to 'rope off'", theta.nameSpan);
    } else if (onOff !== undefined) {
      const value = !onOff ? null : theta !== undefined ? ctx.number(ctx.first(theta), "theta", { above: 0 }) : DEFAULT_ROPE_THETA;
      if (value !== undefined) out.rope = { value, span: rope.span };
    }
  }
  const causal = b.get("causal");
  if (causal !== undefined) {
    const c = ctx.onOff(ctx.first(causal), "causal");
    if (c !== undefined) out.causal = { value: c, span: causal.span };
  }
  return out;
}

/** Per-head lambdas for `decay slopes`: Retention's 1 - 2^(-5-h), else ALiBi slopes m_h as exp(-m_h). */
export function slopes(variant: LinearVariant, heads: number): number[] {
  return Array.from({ length: heads }, (_, h) =>
    variant === "retention" ? 1 - 2 ** (-5 - h) : Math.exp(-(2 ** ((-8 * (h + 1)) / heads))),
  );
}

function defaultDecay(variant: LinearVariant): DecayOpt["kind"] {
  return variant === "lightning" || variant === "retention" ? "slopes" : variant === "gla" ? "gate" : "none";
}

/** Fills defaults for one layer and checks the options fit; undefined on error (reported). */
export function finishLinear(
  ctx: Ctx, o: LinearOpts, heads: number, model: { causal: boolean; causalSpan?: Span }, fallback: Span,
): LinearLayerSpec | undefined {
  const variant = o.variant?.value ?? "basic";
  const feature = o.feature?.value ?? (variant === "based" ? "taylor2" : variant === "rebased" ? "square" : "identity");
  const conv = o.conv?.value ?? (variant === "based" ? 4 : 0);
  const causal = o.causal?.value ?? model.causal;
  const d: DecayOpt = o.decay ?? (defaultDecay(variant) === "gate"
    ? { kind: "gate", rank: GATE_RANK, tau: GATE_TAU, span: o.variant?.span ?? fallback }
    : { kind: defaultDecay(variant) as "none" | "slopes", span: o.variant?.span ?? fallback });
  let ok = true;
  if ((d.kind === "gate") !== (variant === "gla")) {
    const msg = d.kind === "gate"
      ? `'decay gate' is GLA's data-dependent gate: it needs 'kind gla', not '${variant}'`
      : `'kind gla' needs 'decay gate' (GLA's data-dependent gate), not 'decay ${d.kind}'`;
    ctx.error("gateVariant", msg, d.span, d.kind === "gate" ? {} : { suggestion: "decay gate" });
    ok = false;
  }
  if (d.kind === "fixed" && d.perHead && d.lambdas.length !== heads) {
    ctx.error("lambdaCount", `'decay fixed' lists ${d.lambdas.length} lambda${d.lambdas.length === 1 ? "" : "s"} but the model has ${heads} heads`, d.span);
    ok = false;
  }
  if (!causal && d.kind !== "none") {
    const why = o.decay === undefined ? ` ('${variant}' decays by default: add 'decay none' or use kind basic)` : "";
    ctx.error("bidirectionalDecay", `decay and gates are not supported on a bidirectional linear layer${why}`, d.span, {
      notes: [{ message: "the layer is bidirectional (causal off)", span: o.causal?.span ?? model.causalSpan ?? fallback }],
    });
    ok = false;
  }
  if (!ok) return undefined;
  let decay: Decay;
  switch (d.kind) {
    case "none":
      decay = { kind: "none" };
      break;
    case "slopes":
      decay = { kind: "fixed", lambdas: slopes(variant, heads) };
      break;
    case "fixed":
      decay = { kind: "fixed", lambdas: d.perHead ? [...d.lambdas] : Array.from({ length: heads }, () => d.lambdas[0]!) };
      break;
    case "gate":
      decay = { kind: "gate", rank: d.rank, tau: d.tau };
      break;
  }
  return { variant, feature, decay, conv, causal };
}

export function finishSoftmax(o: SoftmaxOpts, modelCausal: boolean): SoftmaxLayerSpec {
  return { ropeTheta: o.rope === undefined ? DEFAULT_ROPE_THETA : o.rope.value, causal: o.causal?.value ?? modelCausal };
}
