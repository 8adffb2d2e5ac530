// The checker's state and value readers: collect diagnostics (all of them), read typed values out of
// settings with range checks, and index a block's settings by name (unknown, misplaced, duplicated).
import type { Diagnostic, DiagnosticNote, Span } from "../diagnostic.ts";
import type { SourceLoc } from "../spec.ts";
import { flagOf, type Setting, type Value } from "../ast.ts";
import { CODES, type CodeName } from "../codes.ts";
import { lineCol } from "../line-col.ts";
import { closest } from "../suggest.ts";
import { hasSuffix } from "../numbers.ts";
import { KEYWORDS } from "../tokens.ts";
import { BLOCKS, homesOf, NESTED, type BlockName, type NamesOf } from "./schema.ts";

export interface Extra {
  readonly suggestion?: string;
  readonly notes?: readonly DiagnosticNote[];
}

/** A diagnostic about a `--set` flag names the flag in its message and carries the flag text as a note. */
export function attachFlag(d: Diagnostic, flag: string | undefined): Diagnostic {
  if (flag === undefined) return d;
  const note: DiagnosticNote = { message: `--set ${flag}`, span: { file: "--set", start: 0, end: flag.length } };
  return { ...d, message: `--set ${flag}: ${d.message}`, notes: [note, ...(d.notes ?? [])] };
}

export class Ctx {
  readonly diagnostics: Diagnostic[] = [];
  /** names suggested for unknown settings: a "missing" error for one of them would say it twice */
  readonly suggested = new Set<string>();

  constructor(
    readonly source: string,
    readonly file: string,
    /** true after syntax errors: skip whole-spec checks that a half-parsed file would trip */
    readonly partial: boolean,
  ) {}

  report(severity: "error" | "warning", code: CodeName, message: string, span: Span | undefined, extra: Extra = {}): void {
    // after a syntax error a "missing" setting is most likely one the parser skipped, and a
    // warning about a half-parsed block is noise
    if (this.partial && (code === "missing" || severity === "warning")) return;
    // a note pointing into a `--set` flag is printed as text: a diagnostic carries at most one flag
    const notes = extra.notes?.map((n): DiagnosticNote => {
      const flag = flagOf(n.span);
      return flag === undefined ? n : { message: `${n.message} (--set ${flag})` };
    });
    const d: Diagnostic = {
      code: CODES[code],
      severity,
      message,
      ...(span !== undefined ? { span: { file: span.file, start: span.start, end: span.end } } : {}),
      ...(notes !== undefined && notes.length > 0 ? { notes } : {}),
      ...(extra.suggestion !== undefined ? { suggestion: extra.suggestion } : {}),
    };
    this.diagnostics.push(attachFlag(d, flagOf(span)));
  }

  error(code: CodeName, message: string, span: Span | undefined, extra?: Extra): void {
    this.report("error", code, message, span, extra);
  }

  warn(code: CodeName, message: string, span: Span | undefined, extra?: Extra): void {
    this.report("warning", code, message, span, extra);
  }

  loc(span: Span | undefined): SourceLoc {
    if (span === undefined) return { file: this.file, line: 0, col: 0 };
    if (span.file === "--set") return { file: "--set", line: 1, col: span.start + 1 };
    const { line, col } = lineCol(this.source, span.start);
    return { file: span.file, line, col };
  }

  /** Indexes a block's settings; reports unknown, misplaced and duplicated ones (repeatable names excepted). */
  index<B extends BlockName>(block: B, items: readonly Setting[], repeatable: readonly string[] = []): Block<NamesOf<B>> {
    const known = BLOCKS[block].names as readonly string[];
    const map = new Map<string, Setting>();
    const many = new Map<string, Setting[]>();
    for (const s of items) {
      if (!known.includes(s.name)) {
        this.unknown(block, s);
        continue;
      }
      if (repeatable.includes(s.name)) {
        many.set(s.name, [...(many.get(s.name) ?? []), s]);
        continue;
      }
      const first = map.get(s.name);
      if (first !== undefined) {
        this.error("duplicate", `'${s.name}' is set twice in ${BLOCKS[block].title}`, s.nameSpan, {
          notes: [{ message: "first set here", span: first.nameSpan }],
        });
        continue;
      }
      map.set(s.name, s);
    }
    return new Block(map as Map<NamesOf<B>, Setting>, many as Map<NamesOf<B>, Setting[]>);
  }

  private unknown(block: BlockName, s: Setting): void {
    const b = BLOCKS[block];
    const where = block === "root" ? "at the top level" : `in ${b.title}`;
    const homes = homesOf(s.name);
    if ((KEYWORDS as readonly string[]).includes(s.name) && homes.length > 0) {
      const hint = block === "root" ? `; put it inside ${homes.join(" or ")} { }` : `; it belongs in ${homes.join(" or ")}`;
      this.error("misplaced", `'${s.name}' is not a setting ${where}${hint}`, s.nameSpan);
      return;
    }
    // a misspelt option of a nested setting (`decay gate rnk 4`) ends that setting and lands here
    const nested = Object.values(NESTED[block] ?? {}).flatMap((n) => (n === undefined ? [] : BLOCKS[n].names));
    const suggestion = closest(s.name, b.names) ?? closest(s.name, nested);
    if (suggestion !== undefined) this.suggested.add(suggestion);
    if (block === "root") {
      this.error("unknownSection", `unknown section '${s.name}': expected model, parallel or train`, s.nameSpan, suggestion !== undefined ? { suggestion } : {});
    } else {
      this.error("unknownSetting", `unknown setting '${s.name}' ${where}`, s.nameSpan, suggestion !== undefined ? { suggestion } : {});
    }
  }

  // ---- value readers: each reports its own error and returns undefined on a bad value ----

  /** The one value a setting takes; a missing or extra value is an error. */
  first(s: Setting): Value | undefined {
    if (s.values.length === 0) {
      this.error("badValue", `'${s.name}' needs a value`, s.nameSpan);
      return undefined;
    }
    if (s.values.length > 1) {
      this.error("badValue", `'${s.name}' takes one value`, s.values[1]!.span);
      return undefined;
    }
    return s.values[0];
  }

  number(v: Value | undefined, name: string, range: Range = {}): number | undefined {
    if (v === undefined) return undefined;
    if (v.kind !== "number" || !Number.isFinite(v.value)) {
      this.error("badValue", `'${name}' expects a number, got '${show(v)}'`, v.span);
      return undefined;
    }
    if (hasSuffix(v.text) && !range.integer) {
      this.error("badValue", `'${name}' takes a plain number: K and M suffixes are for token and size counts`, v.span);
      return undefined;
    }
    if (range.integer && !Number.isSafeInteger(v.value)) {
      this.error("badValue", `'${name}' expects a whole number, got '${v.text}'`, v.span);
      return undefined;
    }
    const x = v.value;
    const bad =
      (range.min !== undefined && x < range.min) ||
      (range.above !== undefined && x <= range.above) ||
      (range.max !== undefined && x > range.max) ||
      (range.below !== undefined && x >= range.below);
    if (bad) {
      this.error("outOfRange", `'${name}' must be ${describeRange(range)}, got ${v.text}`, v.span);
      return undefined;
    }
    return x;
  }

  int(v: Value | undefined, name: string, min: number, max = 2 ** 40): number | undefined {
    return this.number(v, name, { integer: true, min, max });
  }

  /** A name out of a fixed set; an unknown one gets a did-you-mean. */
  word<T extends string>(v: Value | undefined, name: string, allowed: readonly T[]): T | undefined {
    if (v === undefined) return undefined;
    if (v.kind === "word" && (allowed as readonly string[]).includes(v.text)) return v.text as T;
    const suggestion = closest(show(v), allowed);
    this.error("unknownValue", `unknown ${name} '${show(v)}': expected ${allowed.join(", ")}`, v.span, suggestion !== undefined ? { suggestion } : {});
    return undefined;
  }

  onOff(v: Value | undefined, name: string): boolean | undefined {
    const w = this.word(v, `value for '${name}'`, ["on", "off"] as const);
    return w === undefined ? undefined : w === "on";
  }
}

export interface Range {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** exclusive lower bound */
  readonly above?: number;
  /** exclusive upper bound */
  readonly below?: number;
}

function describeRange(r: Range): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`at least ${r.min}`);
  if (r.above !== undefined) parts.push(`greater than ${r.above}`);
  if (r.max !== undefined && r.max < 2 ** 40) parts.push(`at most ${r.max}`);
  if (r.below !== undefined) parts.push(`less than ${r.below}`);
  return (r.integer ? "a whole number " : "") + parts.join(" and ");
}

export function show(v: Value): string {
  switch (v.kind) {
    case "list":
      return "[...]";
    default:
      return v.text;
  }
}

/** A block's settings by name. */
export class Block<N extends string> {
  constructor(
    private readonly map: Map<N, Setting>,
    private readonly many: Map<N, Setting[]>,
  ) {}
  get(name: N): Setting | undefined {
    return this.map.get(name);
  }
  all(name: N): Setting[] {
    return this.many.get(name) ?? [];
  }
}
