// The layer mix: `layers 16 = [linear*3, softmax]*4` -> one kind per layer, each with the span of the
// mix entry it came from. The size is computed before expanding, so `[linear]*1M*1M` cannot hang.
import type { Span } from "../diagnostic.ts";
import type { Mix, Setting } from "../ast.ts";
import { closest } from "../suggest.ts";
import type { Ctx } from "./context.ts";

export const MAX_LAYERS = 4096;
const KINDS = ["linear", "softmax"] as const;
export type LayerKind = (typeof KINDS)[number];

export interface MixEntry {
  readonly kind: LayerKind;
  readonly span: Span;
}

/** Number of layers a mix expands to (Infinity past the limit), or undefined if it holds an error. */
function size(ctx: Ctx, m: Mix): number | undefined {
  switch (m.kind) {
    case "layer":
      if ((KINDS as readonly string[]).includes(m.name)) return 1;
      {
        const suggestion = closest(m.name, KINDS);
        ctx.error("unknownLayerKind", `unknown layer kind '${m.name}': expected linear or softmax`, m.span, suggestion !== undefined ? { suggestion } : {});
      }
      return undefined;
    case "list": {
      let n: number | undefined = 0;
      for (const item of m.items) {
        const k = size(ctx, item);
        n = n === undefined || k === undefined ? undefined : n + k;
      }
      return n;
    }
    case "repeat": {
      const body = size(ctx, m.body);
      const count = ctx.int(m.count, "repetition count", 1);
      if (body === undefined || count === undefined) return undefined;
      const n = body * count;
      return n > MAX_LAYERS ? Infinity : n;
    }
  }
}

function expand(m: Mix, out: MixEntry[]): void {
  switch (m.kind) {
    case "layer":
      out.push({ kind: m.name as LayerKind, span: m.span });
      return;
    case "list":
      for (const item of m.items) expand(item, out);
      return;
    case "repeat": {
      const count = m.count.kind === "number" ? m.count.value : 0;
      for (let i = 0; i < count; i++) expand(m.body, out);
    }
  }
}

/** Resolves `layers [N =] mix`; undefined on error (reported). */
export function resolveMix(ctx: Ctx, s: Setting): MixEntry[] | undefined {
  const countValue = s.values[0];
  const declared = countValue !== undefined ? ctx.int(countValue, "layers", 1, MAX_LAYERS) : undefined;
  if (s.mix === undefined) {
    ctx.error("missing", "'layers' needs a layer mix, e.g. layers 4 = [linear, softmax] * 2", s.span);
    return undefined;
  }
  const n = size(ctx, s.mix);
  if (n === undefined) return undefined;
  if (n > MAX_LAYERS) {
    ctx.error("outOfRange", `the layer mix expands to more than ${MAX_LAYERS} layers`, s.mix.span);
    return undefined;
  }
  const out: MixEntry[] = [];
  expand(s.mix, out);
  // after a syntax error the mix may have lost entries: its length proves nothing
  if (declared !== undefined && declared !== out.length && !ctx.partial) {
    ctx.error("layerCount", `'layers ${countValue!.kind === "number" ? countValue!.text : declared}' disagrees with the layer mix, which has ${out.length} layer${out.length === 1 ? "" : "s"}`, countValue!.span, {
      notes: [{ message: `the mix expands to ${out.length} layers`, span: s.mix.span }],
    });
    return undefined;
  }
  return out;
}
