// Ahead-of-time compiled plans (`lasp compile --emit ts`): the CompiledProgram type, its loader, and the
// per-step bookkeeping the generated code calls around each handler so a compiled step behaves exactly like
// the interpreter's (fault hook, timing, timeline, NaN check, capture; frees are inlined by the generator).
import * as tf from "@tensorflow/tfjs-core";
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import type { Plan, Step, StepOf, StepOp } from "../../compiler/plan/schema.ts";
import type { ExecCtx } from "./context.ts";
import { ExecError } from "./env.ts";
import { describeStep, NonFiniteError, type RunOptions } from "./interpreter.ts";

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

/** Before a step's handler: what the interpreter does before calling it. Returns the start time. */
export function begin(s: Step, x: ExecCtx, o: RunOptions): number {
  x.current = describeStep(s);
  const t0 = performance.now();
  if (o.fault?.stepId === s.id) {
    if (o.fault.how === "exit") process.exit(7);
    throw new ExecError(`rank ${x.info.spIndex}: injected fault at ${x.current}`);
  }
  return t0;
}

// the interpreter's finite check (not exported there; kept identical)
async function checkFinite(s: Step, x: ExecCtx): Promise<void> {
  for (const name of s.out) {
    if (!x.env.has(name)) continue;
    const t = x.env.get(name);
    if (t.size === 0 || t.dtype !== "float32") continue;
    const flag = tf.tidy(() => tf.all(tf.isFinite(t)));
    const ok = (await flag.data())[0];
    flag.dispose();
    if (ok !== 1) throw new NonFiniteError(`rank ${x.info.spIndex}: ${describeStep(s)} produced NaN or Inf in '${name}'`);
  }
}

/** After a step's handler: timing, timeline, NaN check and capture, as in the interpreter's loop. */
export async function afterStep(s: Step, x: ExecCtx, o: RunOptions, t0: number): Promise<void> {
  const t1 = performance.now();
  const dt = (t1 - t0) / 1000;
  const isWait = s.op === "comm_wait";
  if (isWait) x.stats.commWaitSeconds += dt;
  else x.stats.computeSeconds += dt;
  if (x.stats.events !== null) {
    const kind = isWait ? "comm_wait" : s.op === "comm_start" ? "comm_start" : "compute";
    x.stats.events.push({ kind, label: `${s.op} ${s.id}`, layer: s.layer, t0: (t0 - x.stats.t0) / 1000, t1: (t1 - x.stats.t0) / 1000 });
  }
  if (o.checkFinite && s.op !== "comm_start") await checkFinite(s, x);
  for (const name of s.out)
    if (x.capture.has(name)) {
      const t = x.env.get(name);
      x.captured.set(name, { data: ((await t.data()) as Float32Array).slice(), shape: [...t.shape] });
    }
}

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
