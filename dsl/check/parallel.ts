// The parallel section -> ParallelSpec: SP/DP sizes, the method per layer kind (a method that belongs
// to the other kind is a LASP3001 with the right one suggested), overlap, layout, block, gradient bucket.
import type { Span } from "../diagnostic.ts";
import type { Setting } from "../ast.ts";
import type { LinearMethod, ParallelSpec, SoftmaxMethod } from "../spec.ts";
import { closest } from "../suggest.ts";
import type { Ctx } from "./context.ts";
import { GRAD_BUCKET_BYTES } from "../spec.ts";

const LINEAR_METHODS: readonly LinearMethod[] = ["lasp2", "lasp1", "ring"];
const SOFTMAX_METHODS: readonly SoftmaxMethod[] = ["lasp2h", "ring", "ulysses"];
const LAYOUTS = ["contiguous", "zigzag"] as const;

export interface ParallelResult {
  readonly spec: ParallelSpec | undefined;
  /** where each setting was written, for cross-section errors */
  readonly spans: Partial<Record<"sp" | "dp" | "linear" | "softmax" | "layout", Span>>;
}

function method<T extends string>(ctx: Ctx, s: Setting, kind: "linear" | "softmax", own: readonly T[], other: readonly string[]): T | undefined {
  const v = ctx.first(s);
  if (v === undefined) return undefined;
  if (v?.kind === "word" && !(own as readonly string[]).includes(v.text) && other.includes(v.text)) {
    const otherKind = kind === "linear" ? "softmax" : "linear";
    const suggestion = closest(v.text, own) ?? own[0]!;
    ctx.error("methodKind", `'${v.text}' is a method for ${otherKind} attention layers; ${kind} layers take ${own.join(", ")}`, v.span, { suggestion });
    return undefined;
  }
  return ctx.word(v, `${kind} method`, own);
}

export function checkParallel(ctx: Ctx, section: Setting | undefined, fallback: Span): ParallelResult {
  const b = ctx.index("parallel", section?.children ?? []);
  const spans: ParallelResult["spans"] = {};
  for (const k of ["sp", "dp", "linear", "softmax", "layout"] as const) {
    const s = b.get(k);
    if (s !== undefined) spans[k] = s.values[0]?.span ?? s.span;
  }
  const get = <T>(name: "sp" | "dp" | "linear" | "softmax" | "overlap" | "layout" | "block" | "bucket", dflt: T, read: (s: Setting) => T | undefined): T | undefined => {
    const s = b.get(name);
    return s === undefined ? dflt : read(s);
  };
  const sp = get("sp", 1, (s) => ctx.int(ctx.first(s), "sp", 1, 1 << 20));
  const dp = get("dp", 1, (s) => ctx.int(ctx.first(s), "dp", 1, 1 << 20));
  const linear = get<LinearMethod>("linear", "lasp2", (s) => method(ctx, s, "linear", LINEAR_METHODS, SOFTMAX_METHODS));
  const softmax = get<SoftmaxMethod>("softmax", "lasp2h", (s) => method(ctx, s, "softmax", SOFTMAX_METHODS, LINEAR_METHODS));
  const overlap = get("overlap", true, (s) => ctx.onOff(ctx.first(s), "overlap"));
  const layout = get("layout", "contiguous" as const, (s) => ctx.word(ctx.first(s), "layout", LAYOUTS));
  const block = get("block", 64, (s) => ctx.int(ctx.first(s), "block", 1, 1 << 20));
  const bucket = get("bucket", GRAD_BUCKET_BYTES, (s) => ctx.int(ctx.first(s), "bucket", 1, 2 ** 40));
  if (sp === undefined || dp === undefined || linear === undefined || softmax === undefined) return { spec: undefined, spans };
  if (overlap === undefined || layout === undefined || block === undefined || bucket === undefined) return { spec: undefined, spans };
  const loc = ctx.loc(section?.nameSpan ?? fallback);
  return { spec: { sp, dp, linear, softmax, overlap, layout, block, bucket, loc }, spans };
}
