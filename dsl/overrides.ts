// `--set path=value`: paths name settings in source terms (parallel.sp, train.optimizer.lr,
// model.linear.kind); the value is parsed by the grammar rule of that setting's block and replaces
// the whole setting in the AST before checking. Errors point into the flag (file "--set").
import { createTokenInstance } from "chevrotain";
import { InternalError, type Diagnostic, type Span } from "./diagnostic.ts";
import type { Setting, SpecAst } from "./ast.ts";
import { CODES } from "./codes.ts";
import { attachFlag } from "./check/context.ts";
import { BLOCKS, NESTED, type BlockName } from "./check/schema.ts";
import { parseItem } from "./parse.ts";
import { closest } from "./suggest.ts";
import { Kw, KEYWORDS, type Keyword } from "./tokens.ts";

export interface OverrideResult {
  readonly ast: SpecAst;
  readonly diagnostics: Diagnostic[];
}

interface Part {
  readonly name: string;
  readonly span: Span;
}

function fail(code: keyof typeof CODES, message: string, span: Span, flag: string, suggestion?: string): Diagnostic {
  const d: Diagnostic = { code: CODES[code], severity: "error", message, span: { file: span.file, start: span.start, end: span.end }, ...(suggestion !== undefined ? { suggestion } : {}) };
  return attachFlag(d, flag);
}

/** Walks the path; returns the block holding the last part, or a diagnostic. */
function resolvePath(parts: readonly Part[], flag: string): { block: BlockName; blocks: BlockName[] } | Diagnostic {
  let block: BlockName = "root";
  const blocks: BlockName[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const names = BLOCKS[block].names as readonly string[];
    if (!names.includes(p.name)) {
      const where = block === "root" ? "a section" : `a setting of ${BLOCKS[block].title}`;
      return fail(block === "root" ? "unknownSection" : "unknownSetting", `'${p.name}' is not ${where}: expected one of ${names.join(", ")}`, p.span, flag, closest(p.name, names));
    }
    if (block === "model" && p.name === "layer") {
      return fail("badOverride", "per-layer overrides cannot be set from the command line: set model.linear.* or model.softmax.*, or write a layer block", p.span, flag);
    }
    if (i === parts.length - 1) break;
    const next: BlockName | undefined = NESTED[block]?.[p.name];
    if (next === undefined) return fail("unknownSetting", `'${p.name}' has no settings of its own`, parts[i + 1]!.span, flag);
    blocks.push(next);
    block = next;
  }
  if (block === "root") return fail("badOverride", `a path names a setting, e.g. ${parts[0]!.name}.${BLOCKS[NESTED.root![parts[0]!.name]!].names[0]}`, parts[0]!.span, flag);
  return { block, blocks };
}

function emptySetting(p: Part): Setting {
  return { name: p.name, nameSpan: p.span, values: [], children: [], span: p.span, fromOverride: "" };
}

/** Replaces (or adds) the setting at `path` under `items`, creating missing parents. */
function put(items: readonly Setting[], path: readonly Part[], value: Setting): Setting[] {
  const [head, ...rest] = path;
  if (head === undefined) return [...items];
  const at = items.findIndex((s) => s.name === head.name);
  if (rest.length === 0) {
    return at < 0 ? [...items, value] : items.map((s, i) => (i === at ? value : s));
  }
  const parent = at < 0 ? emptySetting(head) : items[at]!;
  const updated: Setting = { ...parent, children: put(parent.children, rest, value) };
  return at < 0 ? [...items, updated] : items.map((s, i) => (i === at ? updated : s));
}

/** Applies one `path=value` flag. */
function applyOne(ast: SpecAst, flag: string): { ast: SpecAst; diagnostics: Diagnostic[] } {
  const eq = flag.indexOf("=");
  const whole: Span = { file: "--set", start: 0, end: flag.length };
  if (eq <= 0) return { ast, diagnostics: [fail("badOverride", "expected path=value, e.g. parallel.sp=8", whole, flag)] };
  const parts: Part[] = [];
  let off = 0;
  for (const name of flag.slice(0, eq).split(".")) {
    parts.push({ name: name.trim(), span: { file: "--set", start: off, end: off + Math.max(1, name.length), flag } as Span });
    off += name.length + 1;
  }
  const where = resolvePath(parts, flag);
  if ("code" in where) return { ast, diagnostics: [where] };
  const last = parts[parts.length - 1]!;
  if (!(KEYWORDS as readonly string[]).includes(last.name)) throw new InternalError(`schema name '${last.name}' is not a keyword`);
  const base = eq + 1;
  const lead = createTokenInstance(Kw[last.name as Keyword], last.name, last.span.start - base, last.span.end - 1 - base, NaN, NaN, NaN, NaN);
  const parsed = parseItem(flag.slice(base), flag, base, BLOCKS[where.block].rule, lead);
  const diagnostics = parsed.diagnostics.map((d) => attachFlag(d, flag));
  const setting = parsed.ast[0];
  if (diagnostics.length > 0 || setting === undefined) {
    if (diagnostics.length === 0) diagnostics.push(fail("badOverride", "could not read the value", whole, flag));
    return { ast, diagnostics };
  }
  const value: Setting = { ...setting, fromOverride: flag };
  return { ast: { ...ast, sections: put(ast.sections, parts, value) }, diagnostics };
}

/** Applies every flag in order (a later flag wins); flags with errors are skipped and reported. */
export function applyOverrides(ast: SpecAst, flags: readonly string[]): OverrideResult {
  const diagnostics: Diagnostic[] = [];
  let out = ast;
  for (const flag of flags) {
    const r = applyOne(out, flag);
    out = r.ast;
    diagnostics.push(...r.diagnostics);
  }
  return { ast: out, diagnostics };
}
