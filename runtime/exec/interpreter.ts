// The plan interpreter: runs a list of steps on one rank, one handler per op (a table keyed by op), with
// per-step timing, free lists, and a finite check that names the step, layer and spec line of a NaN/Inf.
import * as tf from "@tensorflow/tfjs-core";
import type { Step } from "../../compiler/plan/schema.ts";
import type { ExecCtx, Handler, HandlerTable } from "./context.ts";
import { ExecError } from "./env.ts";
import { comm } from "./handlers/comm.ts";
import { dense } from "./handlers/dense.ts";
import { linear } from "./handlers/linear.ts";
import { softmax } from "./handlers/softmax.ts";

export const HANDLERS: HandlerTable = { ...dense, ...linear, ...softmax, ...comm };

/** A step's description for messages: id, op, layer and the spec line it came from. */
export function describeStep(s: Step): string {
  const layer = s.layer === null ? "" : `, layer ${s.layer}`;
  return `step ${s.id} (${s.op}${layer}; ${s.loc.file}:${s.loc.line}:${s.loc.col})`;
}

export class NonFiniteError extends ExecError {
  override name = "NonFiniteError";
}

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

export interface RunOptions {
  /** check every output of every step for NaN/Inf (costs one reduction per output) */
  readonly checkFinite: boolean;
  /** test hook: at this step, throw or end the thread (fault-handling tests) */
  readonly fault?: { readonly stepId: string; readonly how: "throw" | "exit" } | undefined;
}

/** What happens before a step's handler runs (the interpreter and compiled modules alike). Returns the start time. */
export function beginStep(s: Step, x: ExecCtx, opts: RunOptions): number {
  x.current = describeStep(s);
  if (opts.fault?.stepId === s.id) {
    if (opts.fault.how === "exit") process.exit(7);
    throw new ExecError(`rank ${x.info.spIndex}: injected fault at ${x.current}`);
  }
  return performance.now();
}

/** What happens after a step's handler: timing, timeline, finite check, capture (frees are the caller's). */
export async function endStep(s: Step, x: ExecCtx, opts: RunOptions, t0: number): Promise<void> {
  const t1 = performance.now();
  const dt = (t1 - t0) / 1000;
  const isWait = s.op === "comm_wait";
  if (isWait) x.stats.commWaitSeconds += dt;
  else x.stats.computeSeconds += dt;
  if (x.stats.events !== null) {
    const kind = isWait ? "comm_wait" : s.op === "comm_start" ? "comm_start" : "compute";
    // a collective's start and wait share its handle as label, so reports can pair them
    const label = s.op === "comm_start" || s.op === "comm_wait" ? `${s.collective} ${s.handle}` : `${s.op} ${s.id}`;
    x.stats.events.push({ kind, label, layer: s.layer, t0: (t0 - x.stats.t0) / 1000, t1: (t1 - x.stats.t0) / 1000 });
  }
  if (opts.checkFinite && s.op !== "comm_start") await checkFinite(s, x);
  for (const name of s.out)
    if (x.capture.has(name)) {
      const t = x.env.get(name);
      x.captured.set(name, { data: ((await t.data()) as Float32Array).slice(), shape: [...t.shape] });
    }
}

export async function runSteps(steps: readonly Step[], x: ExecCtx, opts: RunOptions): Promise<void> {
  for (const s of steps) {
    const t0 = beginStep(s, x, opts);
    try {
      await (HANDLERS[s.op] as Handler<typeof s.op>)(s, x);
    } catch (e) {
      if (e instanceof ExecError || (e as Error).name === "CommError") throw e;
      throw new ExecError(`rank ${x.info.spIndex}: ${x.current} failed: ${(e as Error).message}`);
    }
    await endStep(s, x, opts, t0);
    for (const f of s.free ?? []) x.env.free(f);
  }
}
