// SPEC|PLAN arguments shared by the commands that run something: a .lasp spec (with --set overrides,
// diagnostics printed with file:line:col) compiled to a plan, or a plan JSON validated against the schema.
import { readFileSync } from "node:fs";
import { compile } from "../compiler/index.ts";
import type { Plan } from "../compiler/plan/schema.ts";
import { validatePlan } from "../compiler/plan/validate.ts";
import { formatDiagnostic, loadSpecFile } from "../dsl/index.ts";
import type { Spec } from "../dsl/spec.ts";
import { UsageError } from "./args.ts";

/** The loaded input, or the exit code after its errors were printed (1: user error). */
export type Loaded = { plan: Plan; spec: Spec; file: string } | { exit: number };

function printDiagnostics(ds: readonly Parameters<typeof formatDiagnostic>[0][], source: string): void {
  const pretty = process.stderr.isTTY === true;
  for (const d of ds) process.stderr.write(formatDiagnostic(d, source, { pretty, color: pretty }) + "\n");
}

/** Reads and validates a plan file; messages name the file and the schema path of each fault. */
export function readPlanFile(file: string): Plan | string {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return `cannot read plan '${file}': ${(e as Error).message}`;
  }
  const errs = validatePlan(data);
  if (errs.length > 0)
    return (
      `'${file}' is not a valid plan (${errs.length} fault(s)):\n` +
      errs.slice(0, 10).map((e) => `  ${e.instancePath || "/"}: ${e.message} (schema ${e.schemaPath})`).join("\n") +
      // a plan written by an older lasp lacks what newer specs carry (e.g. parallel.bucket)
      `\n  if another version of lasp compiled it, compile its spec again (lasp compile SPEC -o ${file})`
    );
  return data as Plan;
}

/**
 * A spec compiled with its --set overrides, or a plan file. `ranks` (--ranks R) is the world size: the
 * SP size becomes R / dp, applied as one more override so the spec's checks (seq >= sp, Ulysses heads
 * divisible by sp, ...) see it.
 */
export function loadInput(cmd: string, file: string, sets: readonly string[], ranks?: number): Loaded {
  if (file.endsWith(".json")) {
    if (sets.length > 0) throw new UsageError("--set applies to a spec, not to a compiled plan");
    const p = readPlanFile(file);
    if (typeof p === "string") {
      process.stderr.write(`lasp ${cmd}: ${p}\n`);
      return { exit: 1 };
    }
    if (ranks !== undefined && ranks !== p.mesh.world)
      throw new UsageError(`--ranks ${ranks}: the plan was compiled for ${p.mesh.world} ranks (sp ${p.mesh.sp} x dp ${p.mesh.dp}); recompile the spec`);
    return { plan: p, spec: p.spec, file };
  }
  let loaded = loadSpecFile(file, sets);
  if (ranks !== undefined && loaded.spec !== undefined) {
    const dp = loaded.spec.parallel.dp;
    if (ranks % dp !== 0) throw new UsageError(`--ranks ${ranks} is not a multiple of the spec's dp ${dp}`);
    loaded = loadSpecFile(file, [...sets, `parallel.sp=${ranks / dp}`]);
  }
  printDiagnostics(loaded.diagnostics, loaded.source);
  if (loaded.spec === undefined) return { exit: 1 };
  const r = compile(loaded.spec, { source: { file, text: loaded.source } });
  printDiagnostics(r.diagnostics, loaded.source);
  if (r.plan === null) return { exit: 1 };
  return { plan: r.plan, spec: loaded.spec, file };
}
