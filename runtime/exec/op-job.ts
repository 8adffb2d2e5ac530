// `lasp op` on ranks: the rank job (slice the global inputs to this rank's tokens by partition.ts, run the
// one-layer plan's forward and backward with the plan interpreter, hand back the outputs and the bytes
// received) and the launcher side (worker threads, outputs put back in global order, bytes vs the plan).
import * as tf from "@tensorflow/tfjs-core";
import { rankEntryUrl } from "./rank-entry-url.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import type { OpPlan } from "../../compiler/op/build.ts";
import { initBackend, type BackendName } from "../backend/index.ts";
import type { RankContext } from "../comm/context.ts";
import { launchRanks } from "../comm/threads/launch.ts";
import { spreadRanksOverGpus } from "../backend/vk-device-tag.ts";
import type { ExecCtx } from "./context.ts";
import { Env, ExecError } from "./env.ts";
import { byteMismatches, expectedBytes, type GroupBytes } from "./expected-bytes.ts";
import { runSteps } from "./interpreter.ts";
import { assertPlan } from "../../compiler/plan/validate.ts";
import { localPositions, positionsOfRank, rankInfo } from "./rank-info.ts";

/** A whole-sequence tensor [H, N, d] (heads layout with B = 1), row-major. */
export interface GlobalTensor {
  readonly shape: readonly [number, number, number];
  readonly data: Float32Array;
}

/** One op on this rank: its plan, the whole-sequence inputs, the buffers to hand back. */
export interface OpRunArgs {
  readonly plan: Plan;
  /** input buffer name -> the whole sequence; each rank takes its own tokens */
  readonly inputs: readonly (readonly [string, GlobalTensor])[];
  /** buffers copied out as they are written */
  readonly outputs: readonly string[];
}

/** Several ops of the same rank count run one after the other in one launch (workers start once). */
export interface OpJobArgs {
  readonly job: "op";
  /** the first run's plan (what the rank entry validates; every run's plan is validated too) */
  readonly plan: Plan;
  readonly backend: BackendName;
  readonly runs: readonly OpRunArgs[];
  readonly checkFinite?: boolean;
}

export interface OpRankRun {
  /** output name -> this rank's tokens [H, C, d] */
  readonly outputs: [string, { data: Float32Array; shape: number[] }][];
  readonly bytes: GroupBytes;
}

export interface OpJobResult {
  readonly runs: OpRankRun[];
  readonly backend: string;
}

/** Rows of x [H, N, d] at the given token positions: [H, C, d]. */
function takeTokens(x: GlobalTensor, pos: Int32Array): Float32Array {
  const [H, N, d] = x.shape;
  const out = new Float32Array(H * pos.length * d);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < pos.length; i++) out.set(x.data.subarray((h * N + pos[i]!) * d, (h * N + pos[i]! + 1) * d), (h * pos.length + i) * d);
  return out;
}

async function runOne(ctx: RankContext, a: OpRunArgs, checkFinite: boolean): Promise<OpRankRun> {
  const plan = assertPlan(a.plan);
  if (plan.mesh.sp !== ctx.sp.size || plan.mesh.dp !== 1) throw new ExecError(`op plan for sp=${plan.mesh.sp} dp=${plan.mesh.dp} on an SP group of ${ctx.sp.size}`);
  const info = rankInfo(plan, ctx.sp.rank);
  const pos = localPositions(info);
  const env = new Env(() => `rank ${ctx.rank}`);
  for (const [name, t] of a.inputs) env.set(name, tf.tensor(takeTokens(t, pos), [t.shape[0], pos.length, t.shape[2]]));
  const x: ExecCtx = {
    env,
    info,
    comms: { sp: ctx.sp, dp: ctx.dp, world: ctx.world },
    pending: new Map(),
    stats: { computeSeconds: 0, commWaitSeconds: 0, events: null, t0: performance.now() },
    lossScale: null,
    current: "",
    capture: new Set(a.outputs),
    captured: new Map(),
  };
  for (const c of [ctx.sp, ctx.dp, ctx.world]) c.resetByteCounts();
  try {
    for (const steps of [plan.forward, plan.backward, plan.gradSync]) await runSteps(steps, x, { checkFinite });
    if (x.pending.size > 0) throw new ExecError(`plan bug: collectives never waited: ${[...x.pending.keys()].join(", ")}`);
    const missing = a.outputs.filter((n) => !x.captured.has(n));
    if (missing.length > 0) throw new ExecError(`rank ${ctx.rank}: the plan never wrote ${missing.join(", ")}`);
    const bytes = { sp: ctx.sp.bytesReceived(), dp: ctx.dp.bytesReceived(), world: ctx.world.bytesReceived() };
    return { outputs: a.outputs.map((n) => [n, x.captured.get(n)!]), bytes };
  } finally {
    env.clearActivations();
  }
}

export async function opJob(ctx: RankContext, a: OpJobArgs): Promise<OpJobResult> {
  const backend = await initBackend(a.backend);
  const runs: OpRankRun[] = [];
  for (const r of a.runs) runs.push(await runOne(ctx, r, a.checkFinite ?? true));
  return { runs, backend };
}

export interface OpRunOptions {
  readonly backend: BackendName;
  readonly timeoutMs?: number;
}

export interface OpRankBytes {
  readonly measured: GroupBytes;
  readonly predicted: GroupBytes;
}

export interface OpRunResult {
  /** output name -> the whole sequence [H, N, d], global token order */
  readonly outputs: Map<string, GlobalTensor>;
  /** bytes each SP rank received, measured and as the plan predicts, rank order */
  readonly bytes: OpRankBytes[];
  /** "rank r: group.kind: measured ..., plan predicts ..." for every difference; [] when all agree */
  readonly mismatches: string[];
  readonly backend: string;
}

/** One op to run: its plan and the whole-sequence inputs by buffer name. */
export interface OpInput {
  readonly op: OpPlan;
  readonly inputs: ReadonlyMap<string, GlobalTensor>;
}

function assemble(plan: Plan, parts: readonly { data: Float32Array; shape: number[] }[]): GlobalTensor {
  const N = plan.spec.train.seq;
  const info = rankInfo(plan, 0);
  const [H, , d] = parts[0]!.shape as [number, number, number];
  const g = new Float32Array(H * N * d);
  parts.forEach((p, r) => {
    const pos = positionsOfRank(info, r);
    const C = pos.length;
    for (let h = 0; h < H; h++)
      for (let i = 0; i < C; i++) g.set(p.data.subarray((h * C + i) * d, (h * C + i + 1) * d), (h * N + pos[i]!) * d);
  });
  return { shape: [H, N, d], data: g };
}

/**
 * Runs op plans of one SP size on worker threads, one launch for all of them, and puts each op's outputs
 * back in global token order; bytes each rank received are compared with the plan's prediction.
 */
export async function runOps(ops: readonly OpInput[], opts: OpRunOptions): Promise<OpRunResult[]> {
  if (ops.length === 0) return [];
  const sp = ops[0]!.op.plan.mesh.sp;
  const runs: OpRunArgs[] = ops.map(({ op, inputs }) => {
    if (op.plan.mesh.sp !== sp) throw new RangeError(`runOps: every plan needs sp = ${sp}, got ${op.plan.mesh.sp}`);
    const missing = op.inputs.filter((n) => !inputs.has(n));
    if (missing.length > 0) throw new Error(`op inputs missing: ${missing.join(", ")}`);
    return { plan: op.plan, inputs: op.inputs.map((n) => [n, inputs.get(n)!]), outputs: op.outputs };
  });
  await spreadRanksOverGpus(sp, opts.backend);
  const results = await launchRanks<OpJobResult>({
    sp,
    dp: 1,
    entry: rankEntryUrl(),
    args: { job: "op", plan: runs[0]!.plan, backend: opts.backend, runs } satisfies OpJobArgs,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return ops.map(({ op }, i) => {
    const { plan } = op;
    const outputs = new Map<string, GlobalTensor>();
    for (const name of op.outputs) outputs.set(name, assemble(plan, results.map((r) => new Map(r.runs[i]!.outputs).get(name)!)));
    const bytes = results.map((r, rank) => ({ measured: r.runs[i]!.bytes, predicted: expectedBytes(plan, rank, 0) }));
    const mismatches = bytes.flatMap((b, rank) => byteMismatches(b.measured, b.predicted).map((m) => `rank ${rank}: ${m}`));
    return { outputs, bytes, mismatches, backend: results[0]!.backend };
  });
}

/** Runs one op plan (see runOps). */
export async function runOpPlan(op: OpPlan, inputs: ReadonlyMap<string, GlobalTensor>, opts: OpRunOptions): Promise<OpRunResult> {
  return (await runOps([{ op, inputs }], opts))[0]!;
}

/**
 * The same as runOps with the ranks as MPI processes (`lasp op --transport mpi` under mpirun): this process
 * runs its rank; rank 0 gathers every rank's outputs and bytes and returns the results, the others null.
 */
export async function runOpsMpi(ops: readonly OpInput[], opts: OpRunOptions): Promise<OpRunResult[] | null> {
  const { mpiRankContext, mpiFinalize } = await import("../comm/mpi/index.ts");
  const { gatherArrays, gatherBytes } = await import("./mpi-gather.ts");
  if (ops.length === 0) return [];
  const sp = ops[0]!.op.plan.mesh.sp;
  const runs: OpRunArgs[] = ops.map(({ op, inputs }) => ({ plan: op.plan, inputs: op.inputs.map((n) => [n, inputs.get(n)!]), outputs: op.outputs }));
  const ctx = await mpiRankContext(sp, 1, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
  const mine = await opJob(ctx, { job: "op", plan: runs[0]!.plan, backend: opts.backend, runs });
  const out: OpRunResult[] = [];
  for (const [i, { op }] of ops.entries()) {
    const run = mine.runs[i]!;
    const byName = new Map(run.outputs);
    const outputs = new Map<string, GlobalTensor>();
    for (const name of op.outputs) {
      const m = byName.get(name)!;
      const parts = await gatherArrays(ctx.sp, m.data, `op:${i}:${name}`);
      const [H, , d] = m.shape as [number, number, number];
      outputs.set(name, assemble(op.plan, parts.map((data) => ({ data, shape: [H, data.length / (H * d), d] }))));
    }
    const measured = await gatherBytes(ctx.sp, run.bytes, `op:${i}:bytes`);
    const bytes = measured.map((m, rank) => ({ measured: m, predicted: expectedBytes(op.plan, rank, 0) }));
    const mismatches = bytes.flatMap((b, rank) => byteMismatches(b.measured, b.predicted).map((x) => `rank ${rank}: ${x}`));
    out.push({ outputs, bytes, mismatches, backend: mine.backend });
  }
  const lead = ctx.rank === 0;
  mpiFinalize();
  return lead ? out : null;
}
