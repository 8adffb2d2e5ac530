// Printing diagnostics: the short form `file:line:col: error LASPnnnn: message` for logs and goldens,
// and a pretty form for people (source line, underline under the span, notes, "did you mean").
import type { Diagnostic, Span } from "./diagnostic.ts";
import { lineAt, lineCol } from "./line-col.ts";

export interface FormatOptions {
  readonly pretty?: boolean;
  readonly color?: boolean;
}

const ANSI = { red: "31", yellow: "33", blue: "34", green: "32", bold: "1" } as const;

/** The text a span points into: the spec source, or for a `--set` diagnostic the flag itself. */
function textFor(d: Diagnostic, span: Span, source: string): string {
  if (span.file !== "--set") return source;
  const note = d.notes?.find((n) => n.span?.file === "--set" && n.message.startsWith("--set "));
  return note !== undefined ? note.message.slice("--set ".length) : "";
}

function where(span: Span, text: string): string {
  const { line, col } = lineCol(text, span.start);
  return `${span.file}:${line}:${col}`;
}

export function formatDiagnostic(d: Diagnostic, source: string, opts: FormatOptions = {}): string {
  const paint = (code: string, s: string): string => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const sevColor = d.severity === "error" ? ANSI.red : ANSI.yellow;
  const head = `${paint(sevColor, d.severity)} ${d.code}: ${d.message}`;
  const span = d.span;
  const header = span !== undefined ? `${where(span, textFor(d, span, source))}: ${head}` : head;
  if (!opts.pretty) return header;

  const out = [opts.color ? paint(ANSI.bold, header) : header];
  const gutterWidth = 5;
  const snippet = (s: Span, text: string, label: string, markColor: string): void => {
    if (text === "" && s.end === 0) return;
    const { line } = lineCol(text, s.start);
    const { text: lineText, start: lineStart } = lineAt(text, s.start);
    const shown = lineText.replace(/\t/g, " ");
    const startCol = Math.max(0, s.start - lineStart);
    const width = Math.max(1, Math.min(s.end, lineStart + lineText.length) - s.start);
    const gutter = String(line).padStart(gutterWidth - 1);
    out.push(paint(ANSI.blue, `${" ".repeat(gutterWidth - 1)} |`));
    out.push(`${paint(ANSI.blue, `${gutter} |`)} ${shown}`);
    const marks = (width === 1 ? "^" : "^".repeat(width)) + (label !== "" ? ` ${label}` : "");
    out.push(`${paint(ANSI.blue, `${" ".repeat(gutterWidth - 1)} |`)} ${" ".repeat(startCol)}${paint(markColor, marks)}`);
  };
  if (span !== undefined) {
    const hint = d.suggestion !== undefined ? `did you mean '${d.suggestion}'?` : "";
    snippet(span, textFor(d, span, source), hint, sevColor);
  } else if (d.suggestion !== undefined) {
    out.push(`  = did you mean '${d.suggestion}'?`);
  }
  for (const n of d.notes ?? []) {
    if (n.span?.file === "--set" && n.message.startsWith("--set ")) continue; // the flag is already shown
    if (n.span !== undefined) {
      const text = textFor(d, n.span, source);
      out.push(`${" ".repeat(gutterWidth - 1)} = note: ${n.message} (${where(n.span, text)})`);
      snippet(n.span, text, "", ANSI.blue);
    } else {
      out.push(`${" ".repeat(gutterWidth - 1)} = note: ${n.message}`);
    }
  }
  return out.join("\n");
}
