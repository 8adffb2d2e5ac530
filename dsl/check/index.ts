// Resolution and semantic checks: AST -> Spec with every default filled, or the complete list of
// errors. Sections are checked independently, then across each other where the sections involved resolved.
import type { Diagnostic, Span } from "../diagnostic.ts";
import type { Setting, SpecAst } from "../ast.ts";
import type { Spec } from "../spec.ts";
import { Ctx } from "./context.ts";
import { checkCross } from "./cross.ts";
import { checkModel } from "./model.ts";
import { checkParallel } from "./parallel.ts";
import { checkTrain } from "./train.ts";

export interface CheckResult {
  readonly spec: Spec | undefined;
  readonly diagnostics: Diagnostic[];
}

/** `partial`: the AST came out of error recovery, so skip checks a missing piece would trip. */
export function checkSpec(ast: SpecAst, source: string, partial: boolean): CheckResult {
  const ctx = new Ctx(source, ast.file, partial);
  const root = ctx.index("root", ast.sections);
  const fileSpan: Span = { file: ast.file, start: 0, end: 0 };
  const model = checkModel(ctx, root.get("model"), fileSpan);
  const fallback = root.get("model")?.nameSpan ?? fileSpan;
  const parallelS: Setting | undefined = root.get("parallel");
  const trainS: Setting | undefined = root.get("train");
  const parallel = checkParallel(ctx, parallelS, fallback);
  const train = checkTrain(ctx, trainS, fallback);
  if (!partial) {
    checkCross(ctx, model, parallel.spec, train.spec, {
      parallel: parallel.spans,
      train: train.spans,
      parallelSpan: parallelS?.nameSpan ?? fallback,
      trainSpan: trainS?.nameSpan ?? fallback,
    });
  }
  const diagnostics = dedupe(ctx.diagnostics);
  const failed = partial || diagnostics.some((d) => d.severity === "error");
  const spec = !failed && model !== undefined && parallel.spec !== undefined && train.spec !== undefined
    ? { model, parallel: parallel.spec, train: train.spec }
    : undefined;
  return { spec, diagnostics };
}

/** One report per (code, place, message): a model-level option resolved for 16 layers errs once. */
function dedupe(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.code}|${d.span?.file}|${d.span?.start}|${d.span?.end}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
