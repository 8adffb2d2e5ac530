// Ahead-of-time compiled plans (`lasp compile --emit ts`): the CompiledProgram type, its loader, and the
// per-step bookkeeping the generated code calls around each handler so a compiled step behaves exactly like
// the interpreter's (fault hook, timing, timeline, NaN check, capture; frees are inlined by the generator).
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import type { Plan, Step, StepOf, StepOp } from "../../compiler/plan/schema.ts";
import type { ExecCtx } from "./context.ts";
import { ExecError } from "./env.ts";
import type { RunOptions } from "./interpreter.ts";

/** One plan phase, unrolled: every step an explicit call of its handler. */
export type CompiledPhase = (x: ExecCtx, o: RunOptions) => Promise<void>;

export interface CompiledProgram {
  readonly forward: CompiledPhase;
  readonly backward: CompiledPhase;
  readonly gradSync: CompiledPhase;
  /** the plan the module was generated from (full-precision numbers) */
  readonly plan: Plan;
}

/** Load time only: the step at `i` of a phase, narrowed to its op (throws if the module and plan disagree). */
export function stepAt<K extends StepOp>(steps: readonly Step[], i: number, op: K): StepOf<K> {
  const s = steps[i];
  if (s === undefined || s.op !== op) throw new Error(`compiled plan: step ${i} is ${s?.op ?? "missing"}, expected ${op}`);
  return s as StepOf<K>;
}

/** Before and after each step: exactly the interpreter's own code (runtime/exec/interpreter.ts). */
export { beginStep as begin, endStep as afterStep } from "./interpreter.ts";

/** Runs one compiled phase with the interpreter's error wrapping (the failing step named by x.current). */
export async function runCompiled(phase: CompiledPhase, x: ExecCtx, o: RunOptions): Promise<void> {
  try {
    await phase(x, o);
  } catch (e) {
    if (e instanceof ExecError || (e as Error).name === "CommError") throw e;
    throw new ExecError(`rank ${x.info.spIndex}: ${x.current} failed: ${(e as Error).message}`);
  }
}

/** Loads a generated module (a path or file URL; needs the tsx loader, as tests, the CLI and workers have). */
export async function loadCompiledProgram(path: string): Promise<CompiledProgram> {
  const url = path.startsWith("file:") ? path : pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
  const mod = (await import(url)) as { program?: CompiledProgram };
  const p = mod.program;
  if (p === undefined || typeof p.forward !== "function" || typeof p.backward !== "function" || typeof p.gradSync !== "function")
    throw new Error(`${path}: not a compiled lasp plan (no exported 'program' with forward, backward, gradSync)`);
  return p;
}

/** Key-sorted, full-precision JSON: the compiled module must embed exactly the plan being run. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val !== null && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : val,
  );
}

export function assertSamePlan(program: CompiledProgram, plan: Plan): void {
  if (stable(program.plan) !== stable(plan))
    throw new Error("compiled module: its embedded plan differs from the plan of this job (regenerate it with `lasp compile --emit ts`)");
}
