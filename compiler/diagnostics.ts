// Compiler diagnostics (LASP3xxx parallel configuration): built from a spec SourceLoc, converted to the
// project's byte-span Diagnostic when the source text is known.
import type { Diagnostic } from "../dsl/diagnostic.ts";
import type { SourceLoc } from "../dsl/spec.ts";

/** Byte offset of a 1-based line/col in text, clamped to the text. */
function offsetOf(text: string, line: number, col: number): number {
  let off = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + Math.max(0, col - 1));
}

/** A configuration error at `loc`; the span is empty-width when no source text is at hand. */
export function configError(code: `LASP3${string}`, message: string, loc: SourceLoc, source?: string): Diagnostic {
  const start = source !== undefined && loc.line > 0 ? offsetOf(source, loc.line, loc.col) : 0;
  let end = start;
  if (source !== undefined) {
    const m = /^[A-Za-z0-9_.]+/.exec(source.slice(start));
    end = start + (m?.[0].length ?? 0);
  }
  return {
    code: code as `LASP${number}`,
    severity: "error",
    message: source === undefined && loc.line > 0 ? `${message} (at ${loc.file}:${loc.line}:${loc.col})` : message,
    span: { file: loc.file, start, end },
  };
}
