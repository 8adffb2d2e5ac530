// The DSL's public API: .lasp text (plus `--set` flags) -> resolved Spec or every diagnostic, and
// diagnostic printing. Used by the compiler and the CLI; nothing here throws for user errors.
import { readFileSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import type { Diagnostic } from "./diagnostic.ts";
import { Spec } from "./spec.ts";
import { CODES } from "./codes.ts";
import { checkSpec } from "./check/index.ts";
import { applyOverrides } from "./overrides.ts";
import { parseText } from "./parse.ts";

export { formatDiagnostic, type FormatOptions } from "./diagnostic-format.ts";
export { lineCol } from "./line-col.ts";
export { CODES } from "./codes.ts";
export type { Diagnostic } from "./diagnostic.ts";
export type { Spec } from "./spec.ts";

export interface LoadResult {
  /** the resolved spec; undefined iff there is at least one error */
  spec: Spec | undefined;
  diagnostics: Diagnostic[];
  source: string;
}

function internal(e: unknown, file: string): Diagnostic {
  const message = e instanceof Error ? e.message : String(e);
  return { code: CODES.internal, severity: "error", message: `internal error in the .lasp front end: ${message}`, span: { file, start: 0, end: 0 } };
}

/** Source order: the file's diagnostics by position, then those about `--set` flags (stable sort). */
function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  const rank = (d: Diagnostic): number => (d.span === undefined ? 0 : d.span.file === "--set" ? 2 : 1);
  return ds.sort((a, b) => rank(a) - rank(b) || (rank(a) === 1 ? a.span!.start - b.span!.start : 0));
}

/** Parses and checks `source`; `overrides` are `--set` flags like "parallel.sp=8", applied in order. */
export function parseSpec(source: string, file: string, overrides: readonly string[] = []): LoadResult {
  try {
    const parsed = parseText(source, file);
    const over = applyOverrides(parsed.ast, overrides);
    const syntaxErrors = parsed.diagnostics.length + over.diagnostics.length > 0;
    const checked = checkSpec(over.ast, source, syntaxErrors);
    const diagnostics = sortDiagnostics([...parsed.diagnostics, ...over.diagnostics, ...checked.diagnostics]);
    const spec = diagnostics.some((d) => d.severity === "error") ? undefined : checked.spec;
    if (spec !== undefined && !Value.Check(Spec, spec)) {
      const first = [...Value.Errors(Spec, spec)][0];
      return { spec: undefined, diagnostics: [...diagnostics, internal(new Error(`resolved spec breaks the schema at ${first?.path}: ${first?.message}`), file)], source };
    }
    if (spec === undefined && !diagnostics.some((d) => d.severity === "error")) {
      return { spec, diagnostics: [...diagnostics, internal(new Error("no spec and no error"), file)], source };
    }
    return { spec, diagnostics, source };
  } catch (e) {
    return { spec: undefined, diagnostics: [internal(e, file)], source };
  }
}

/** Reads and parses a spec file; a file that cannot be read is a LASP1000 diagnostic. */
export function loadSpecFile(path: string, overrides: readonly string[] = []): LoadResult {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    return {
      spec: undefined,
      diagnostics: [{ code: CODES.unreadableFile, severity: "error", message: `cannot read spec file '${path}': ${why}`, span: { file: path, start: 0, end: 0 } }],
      source: "",
    };
  }
  return parseSpec(source, path, overrides);
}
