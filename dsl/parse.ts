// Text -> AST plus syntax diagnostics: lexing, Chevrotain parsing with error recovery, and the mapping
// of lexer and parser errors to LASP1xxx diagnostics (never thrown).
import type { ILexingError, IRecognitionException, IToken } from "chevrotain";
import type { Diagnostic, Span } from "./diagnostic.ts";
import type { Setting, SpecAst } from "./ast.ts";
import { CODES } from "./codes.ts";
import { parser, type ItemRule } from "./grammar.ts";
import { pendingSuggestions } from "./syntax-messages.ts";
import { lexer } from "./tokens.ts";
import { AstBuilder } from "./visitor.ts";

export interface ParseResult<T> {
  readonly ast: T;
  readonly diagnostics: Diagnostic[];
}

function lexDiagnostic(e: ILexingError, source: string, file: string, base: number): Diagnostic {
  const ch = source[e.offset] ?? "";
  const span: Span = { file, start: base + e.offset, end: base + e.offset + Math.max(1, e.length) };
  if (ch === '"') return { code: CODES.unterminatedString, severity: "error", message: "unterminated string", span };
  const shown = JSON.stringify(source.slice(e.offset, e.offset + e.length));
  return { code: CODES.unexpectedChar, severity: "error", message: `unexpected character${e.length > 1 ? "s" : ""} ${shown}`, span };
}

function parseDiagnostic(e: IRecognitionException, source: string, file: string, base: number): Diagnostic {
  const t: IToken = e.token;
  const start = Number.isFinite(t.startOffset) ? t.startOffset : source.length;
  const end = Number.isFinite(t.startOffset) ? start + t.image.length : start;
  const suggestion = pendingSuggestions.get(start);
  return {
    code: CODES.syntax,
    severity: "error",
    message: e.message,
    span: { file, start: base + start, end: base + Math.max(end, start) },
    ...(suggestion !== undefined ? { suggestion } : {}),
  };
}

function run<T>(
  source: string, file: string, base: number, rule: ItemRule | "spec", lead: IToken[],
  build: (b: AstBuilder, cst: ReturnType<typeof parser.spec>) => T, flag?: string,
): ParseResult<T> {
  const lexed = lexer.tokenize(source);
  const diagnostics = lexed.errors.map((e) => lexDiagnostic(e, source, file, base));
  for (const t of lexed.groups["errors"] ?? []) {
    const span: Span = { file, start: base + t.startOffset, end: base + t.startOffset + t.image.length };
    diagnostics.push({ code: CODES.unterminatedString, severity: "error", message: "unterminated string: a string ends with '\"' on the same line", span });
  }
  pendingSuggestions.clear();
  parser.input = [...lead, ...lexed.tokens];
  const cst = parser[rule]();
  // one syntax error per token: recovery can report the same token from several rules
  const seen = new Set<number>();
  for (const e of parser.errors) {
    const d = parseDiagnostic(e, source, file, base);
    if (seen.has(d.span!.start)) continue;
    seen.add(d.span!.start);
    diagnostics.push(d);
  }
  return { ast: build(new AstBuilder(file, base, flag), cst), diagnostics };
}

/** Parses a whole .lasp file. */
export function parseText(source: string, file: string): ParseResult<SpecAst> {
  return run(source, file, 0, "spec", [], (b, cst) => b.spec(cst));
}

/**
 * Parses one setting from a `--set` value: `lead` is a synthetic keyword token standing for the path's
 * last part, `text` the value, `base` the value's offset inside the flag, `rule` the rule for the block.
 */
export function parseItem(text: string, flag: string, base: number, rule: ItemRule, lead: IToken): ParseResult<Setting[]> {
  return run(text, "--set", base, rule, [lead], (b, cst) => b.setting(cst), flag);
}
