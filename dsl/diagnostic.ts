// The one diagnostic type of the project: stable code, message, span, notes. Printing lives in
// dsl/diagnostic-format.ts; spans are offsets, line/col are computed only when printing.

/** Half-open byte range [start, end) in a source text. */
export interface Span {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

export interface DiagnosticNote {
  readonly message: string;
  readonly span?: Span;
}

/**
 * Codes: LASP1xxx syntax, LASP2xxx names and shapes, LASP3xxx parallel configuration,
 * LASP4xxx training setup, LASP9xxx internal. Codes are stable: never reuse a retired one.
 */
export interface Diagnostic {
  readonly code: `LASP${number}`;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly span?: Span;
  readonly notes?: readonly DiagnosticNote[];
  /** a replacement the user probably meant ("did you mean ...") */
  readonly suggestion?: string;
}

/** Thrown only for broken invariants (bugs), never for user errors, which are returned. */
export class InternalError extends Error {
  override name = "InternalError";
}
