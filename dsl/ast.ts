// The .lasp AST: a uniform tree of settings (a section is a setting whose children are its items), so
// checks are tables keyed by setting name and `--set` paths are paths in this tree. Spans are offsets.
import type { Span } from "./diagnostic.ts";

export type Value =
  | { readonly kind: "number"; readonly text: string; readonly value: number; readonly span: Span }
  | { readonly kind: "word"; readonly text: string; readonly span: Span }
  | { readonly kind: "string"; readonly text: string; readonly value: string; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Value[]; readonly span: Span };

/** A layer-mix expression: `[linear*3, softmax]*4`. */
export type Mix =
  | { readonly kind: "layer"; readonly name: string; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Mix[]; readonly span: Span }
  | { readonly kind: "repeat"; readonly body: Mix; readonly count: Value; readonly span: Span };

/** `layer 0..3, 7 { ... }`: inclusive index ranges. */
export interface Selector {
  readonly from: Value;
  readonly to?: Value;
  readonly span: Span;
}

export interface Setting {
  /** the keyword or name that opens it (`hidden`, `linear`, `model`, or an unknown word) */
  readonly name: string;
  readonly nameSpan: Span;
  readonly values: readonly Value[];
  readonly children: readonly Setting[];
  /** the whole setting, name to last token */
  readonly span: Span;
  /** `layers`: the layer mix */
  readonly mix?: Mix;
  /** `layer`: which layers it overrides */
  readonly select?: readonly Selector[];
  /** `--set`: the flag text, so errors can name it */
  readonly fromOverride?: string;
}

/** A parsed file: its sections (model, parallel, train, or unknown words) in source order. */
export interface SpecAst {
  readonly file: string;
  readonly sections: readonly Setting[];
}

/** The `--set` flag a span came from, if any (the visitor adds it to spans of override values). */
export function flagOf(span: Span | undefined): string | undefined {
  return (span as { flag?: string } | undefined)?.flag;
}

