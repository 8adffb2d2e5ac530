// The train section -> TrainSpec: sequence length (K/M suffixes), batch, accum, steps, dtype, the AdamW
// optimizer with its schedule, the data source and the seed, every one with a default.
import type { Span } from "../diagnostic.ts";
import type { Setting, Value } from "../ast.ts";
import type { DataSpec, EvalSpec, OptimizerSpec, TrainSpec } from "../spec.ts";
import type { Ctx } from "./context.ts";

export const TRAIN_DEFAULTS = { seq: 2048, batch: 1, accum: 1, steps: 100, seed: 0 } as const;
export const OPTIMIZER_DEFAULTS: OptimizerSpec = {
  kind: "adamw", lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, warmup: 0,
  schedule: "cosine", minLrRatio: 0.1, clip: 1.0,
};
const DATA_KINDS = ["mqar", "random", "text"] as const;

export interface TrainResult {
  readonly spec: TrainSpec | undefined;
  readonly spans: Partial<Record<"seq" | "batch" | "accum" | "steps" | "data" | "pairs" | "warmup" | "recompute", Span>>;
}

function optimizer(ctx: Ctx, s: Setting | undefined): OptimizerSpec | undefined {
  if (s === undefined) return OPTIMIZER_DEFAULTS;
  const kind = s.values[0] !== undefined ? ctx.word(ctx.first(s), "optimizer", ["adamw"] as const) : "adamw";
  const p = ctx.index("optimizer", s.children);
  const num = (name: "lr" | "eps" | "weight_decay" | "min_lr_ratio" | "clip", dflt: number, range: Parameters<Ctx["number"]>[2]): number | undefined => {
    const x = p.get(name);
    return x === undefined ? dflt : ctx.number(ctx.first(x), name, range);
  };
  const lr = num("lr", OPTIMIZER_DEFAULTS.lr, { above: 0 });
  const eps = num("eps", OPTIMIZER_DEFAULTS.eps, { above: 0 });
  const weightDecay = num("weight_decay", OPTIMIZER_DEFAULTS.weightDecay, { min: 0 });
  const minLrRatio = num("min_lr_ratio", OPTIMIZER_DEFAULTS.minLrRatio, { min: 0, max: 1 });
  const clip = num("clip", OPTIMIZER_DEFAULTS.clip, { min: 0 });
  const warmupS = p.get("warmup");
  const warmup = warmupS === undefined ? OPTIMIZER_DEFAULTS.warmup : ctx.int(ctx.first(warmupS), "warmup", 0);
  const betasS = p.get("betas");
  let beta1: number | undefined = OPTIMIZER_DEFAULTS.beta1;
  let beta2: number | undefined = OPTIMIZER_DEFAULTS.beta2;
  if (betasS !== undefined) {
    if (betasS.values.length !== 2) {
      ctx.error("badValue", "'betas' takes two numbers: betas 0.9 0.95", betasS.nameSpan);
      beta1 = undefined;
    } else {
      beta1 = ctx.number(betasS.values[0], "beta1", { min: 0, below: 1 });
      beta2 = ctx.number(betasS.values[1], "beta2", { min: 0, below: 1 });
    }
  }
  const schedS = p.get("schedule");
  const schedule = schedS === undefined ? OPTIMIZER_DEFAULTS.schedule : ctx.word(ctx.first(schedS), "schedule", ["cosine", "constant"] as const);
  if (kind === undefined || lr === undefined || eps === undefined || weightDecay === undefined || minLrRatio === undefined) return undefined;
  if (clip === undefined || warmup === undefined || beta1 === undefined || beta2 === undefined || schedule === undefined) return undefined;
  return { kind, lr, beta1, beta2, eps, weightDecay, warmup, schedule, minLrRatio, clip };
}

export const EVAL_DEFAULTS = { batches: 2, holdout: 0.1 } as const;

/** eval [on|off] every K [batches B] [holdout F]: null when absent or off; `every` is required otherwise. */
function evaluation(ctx: Ctx, s: Setting | undefined): EvalSpec | null | undefined {
  if (s === undefined) return null;
  const sw = s.values[0] !== undefined ? ctx.onOff(ctx.first(s), "eval") : true;
  if (sw === undefined) return undefined;
  const p = ctx.index("eval", s.children);
  if (!sw) return null;
  const everyS = p.get("every");
  if (everyS === undefined) {
    ctx.error("missing", "eval needs how often: eval every K (optimizer steps) [batches B] [holdout F]", s.nameSpan, { suggestion: "eval every 10" });
    return undefined;
  }
  const every = ctx.int(ctx.first(everyS), "every", 1);
  const batchesS = p.get("batches");
  const batches = batchesS === undefined ? EVAL_DEFAULTS.batches : ctx.int(ctx.first(batchesS), "batches", 1, 4096);
  const holdoutS = p.get("holdout");
  const holdout = holdoutS === undefined ? EVAL_DEFAULTS.holdout : ctx.number(ctx.first(holdoutS), "holdout", { min: 0, max: 0.5 });
  if (every === undefined || batches === undefined || holdout === undefined) return undefined;
  return { every, batches, holdout };
}

function data(ctx: Ctx, s: Setting | undefined): DataSpec | undefined {
  if (s === undefined) return { kind: "random" };
  const kind = s.values[0]?.kind === "word" ? ctx.word(s.values[0], "data source", DATA_KINDS) : "random";
  if (kind === undefined) return undefined;
  const path = s.values.find((v) => v.kind === "string");
  const pairsS = ctx.index("data", s.children).get("pairs");
  if (kind !== "mqar" && pairsS !== undefined) {
    ctx.error("optionNotApplicable", "'pairs' applies only to 'data mqar'", pairsS.nameSpan);
    return undefined;
  }
  if (kind !== "text" && path !== undefined) {
    ctx.error("optionNotApplicable", `a path applies only to 'data text', not 'data ${kind}'`, path.span);
    return undefined;
  }
  switch (kind) {
    case "random":
      return { kind };
    case "mqar": {
      const pairs = pairsS === undefined ? 16 : ctx.int(ctx.first(pairsS), "pairs", 1);
      return pairs === undefined ? undefined : { kind, pairs };
    }
    case "text": {
      if (path === undefined || path.kind !== "string") {
        ctx.error("missing", "'data text' needs a path: data text \"corpus.txt\" or data text builtin:NAME", s.span);
        return undefined;
      }
      if (path.value === "" || path.value === "builtin:") {
        ctx.error("textPath", "'data text' needs a non-empty path (or builtin:NAME)", path.span);
        return undefined;
      }
      return { kind, path: path.value };
    }
  }
}

/** recompute on|off|N: N = 0 is off; N is checked against the layer count with the model (cross.ts). */
function recomputeValue(ctx: Ctx, v: Value | undefined): boolean | number | undefined {
  if (v?.kind === "number") {
    const n = ctx.int(v, "recompute", 0);
    return n === undefined ? undefined : n === 0 ? false : n;
  }
  const w = ctx.word(v, "value for 'recompute' (on, off, or how many layers, the first N)", ["on", "off"] as const);
  return w === undefined ? undefined : w === "on";
}

export function checkTrain(ctx: Ctx, section: Setting | undefined, fallback: Span): TrainResult {
  const b = ctx.index("train", section?.children ?? []);
  const spans: { -readonly [K in keyof TrainResult["spans"]]: Span } = {};
  for (const k of ["seq", "batch", "accum", "steps", "data", "recompute"] as const) {
    const s = b.get(k);
    if (s !== undefined) spans[k] = s.values[0]?.span ?? s.span;
  }
  const opt = b.get("optimizer");
  const warmupS = opt !== undefined ? opt.children.find((c) => c.name === "warmup") : undefined;
  if (warmupS !== undefined) spans.warmup = warmupS.values[0]?.span ?? warmupS.span;
  const pairsS = b.get("data")?.children.find((c) => c.name === "pairs");
  if (pairsS !== undefined) spans.pairs = pairsS.values[0]?.span ?? pairsS.span;

  const int = (name: "seq" | "batch" | "accum" | "steps" | "seed", min: number): number | undefined => {
    const s = b.get(name);
    return s === undefined ? TRAIN_DEFAULTS[name] : ctx.int(ctx.first(s), name, min);
  };
  const seq = int("seq", 1);
  const batch = int("batch", 1);
  const accum = int("accum", 1);
  const steps = int("steps", 0);
  const seed = int("seed", 0);
  const dtypeS = b.get("dtype");
  let dtypeOk = true;
  if (dtypeS !== undefined) {
    const v = dtypeS.values[0];
    if (v?.kind !== "word" || v.text !== "float32") {
      ctx.error("dtype", `dtype '${v?.kind === "word" ? v.text : "?"}' is not supported: training runs in float32`, v?.span ?? dtypeS.span, { suggestion: "float32" });
      dtypeOk = false;
    }
  }
  const recomputeS = b.get("recompute");
  const recompute = recomputeS === undefined ? false : recomputeValue(ctx, ctx.first(recomputeS));
  const optimizerSpec = optimizer(ctx, opt);
  const dataSpec = data(ctx, b.get("data"));
  const evalSpec = evaluation(ctx, b.get("eval"));
  if (seq === undefined || batch === undefined || accum === undefined || steps === undefined || seed === undefined || recompute === undefined || !dtypeOk)
    return { spec: undefined, spans };
  if (optimizerSpec === undefined || dataSpec === undefined || evalSpec === undefined) return { spec: undefined, spans };
  const loc = ctx.loc(section?.nameSpan ?? fallback);
  return { spec: { seq, batch, accum, steps, dtype: "float32", optimizer: optimizerSpec, data: dataSpec, seed, recompute, eval: evalSpec, loc }, spans };
}
