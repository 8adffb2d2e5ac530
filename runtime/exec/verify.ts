// `lasp verify`: one training step of a spec on R sequence-parallel ranks and on one device, from the same
// seed and batch; per-layer activation and per-weight gradient errors, and measured vs predicted bytes.
import type { Spec } from "../../dsl/spec.ts";
import { rankEntryUrl } from "./rank-entry-url.ts";
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import type { BackendName } from "../backend/index.ts";
import { launchRanks } from "../comm/threads/launch.ts";
import { spreadRanksOverGpus } from "../backend/vk-device-tag.ts";
import { positionsOfRank, rankInfo } from "./rank-info.ts";
import type { StepJobArgs, StepJobResult } from "./rank-entry.ts";
import { byteMismatches, expectedBytes } from "./expected-bytes.ts";

export interface VerifyOptions {
  readonly ranks: number;
  readonly backend: BackendName;
  /** max relative error allowed (max |a-b| / max |b|) */
  readonly tolerance: number;
  readonly timeoutMs?: number;
  /** training step whose batch is used */
  readonly step?: number;
}

export interface Compared {
  readonly name: string;
  readonly relErr: number;
  readonly ok: boolean;
}

export interface VerifyReport {
  readonly ranks: number;
  readonly loss: { readonly single: number; readonly parallel: number; readonly relErr: number };
  readonly layers: { readonly index: number; readonly kind: string; readonly method: string; readonly activation: Compared; readonly grads: Compared[] }[];
  /** embedding, final norm, LM head */
  readonly other: Compared[];
  readonly bytes: string[];
  readonly ok: boolean;
  readonly backend: string;
}

export function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  if (Number.isNaN(d)) return Infinity;
  return m === 0 ? d : d / m;
}

/**
 * The spec compiled for one device and for `ranks` SP ranks (x dp replicas). The device takes the whole
 * global batch in micro-batches of the replicas' size (accum x dp of them), so its last micro-batch is the
 * last replica's: the activations compared are that micro-batch's.
 */
export function verifyPlans(spec: Spec, ranks: number): { single: Plan; parallel: Plan } {
  const one: Spec = {
    ...spec,
    parallel: { ...spec.parallel, sp: 1, dp: 1 },
    train: { ...spec.train, accum: spec.train.accum * spec.parallel.dp },
  };
  const many: Spec = { ...spec, parallel: { ...spec.parallel, sp: ranks } };
  const plans = [one, many].map((s) => {
    const r = compile(s);
    if (r.plan === null) throw new Error(`compile failed: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
    return r.plan;
  });
  return { single: plans[0]!, parallel: plans[1]! };
}

/** Layer outputs of the SP ranks put back into global [B*N, D] order. */
function assemble(plan: Plan, results: readonly RankView[], name: string): Float32Array | null {
  // captures are the last micro-batch's (train.accum) of each replica; the last replica's SP ranks hold the
  // rows the single device's last micro-batch holds (verifyPlans)
  const { seq: N } = plan.spec.train;
  const B = plan.spec.train.batch / (plan.mesh.dp * plan.spec.train.accum);
  const sp = plan.mesh.sp;
  const first = (plan.mesh.dp - 1) * sp;
  let D = 0;
  const out: Float32Array[] = [];
  for (let r = 0; r < sp; r++) {
    const c = new Map(results[first + r]!.captured).get(name);
    if (c === undefined) return null;
    D = c.shape[1]!;
    out.push(c.data);
  }
  const info = rankInfo(plan, 0);
  const g = new Float32Array(B * N * D);
  for (let r = 0; r < sp; r++) {
    const pos = positionsOfRank(info, r);
    const C = pos.length;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < C; i++) g.set(out[r]!.subarray((b * C + i) * D, (b * C + i + 1) * D), (b * N + pos[i]!) * D);
  }
  return g;
}

/** What the comparison needs of one rank's step (a StepJobResult, or its MPI-gathered counterpart). */
export type RankView = Pick<StepJobResult, "lossShare" | "grads" | "bytes" | "captured">;

/** Layer outputs to capture: the residual stream after each layer. */
export function layerOutputs(spec: Spec): string[] {
  return Array.from({ length: spec.model.layers.length }, (_, i) => `x${i + 1}`);
}

export async function verifySpec(spec: Spec, opts: VerifyOptions): Promise<VerifyReport> {
  const { single, parallel } = verifyPlans(spec, opts.ranks);
  const capture = layerOutputs(spec);
  const entry = rankEntryUrl();
  const run = (plan: Plan) =>
    launchRanks<StepJobResult>({
      sp: plan.mesh.sp,
      dp: plan.mesh.dp,
      entry,
      args: { job: "step", plan, backend: opts.backend, step: opts.step ?? 0, capture } satisfies StepJobArgs,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  await spreadRanksOverGpus(parallel.mesh.world, opts.backend);
  const one = await run(single);
  const many = await run(parallel);
  return compareRuns(spec, { single, parallel }, one, many, opts.tolerance, opts.ranks, one[0]!.backend);
}

/** The report: per-layer activations and weight gradients of the SP run against the one-device run. */
export function compareRuns(
  spec: Spec,
  plans: { single: Plan; parallel: Plan },
  one: readonly RankView[],
  many: readonly RankView[],
  tol: number,
  ranks: number,
  backend: string,
): VerifyReport {
  const { single, parallel } = plans;
  const cmp = (name: string, a: Float32Array | null | undefined, b: Float32Array | null | undefined): Compared => {
    const e = a && b ? relErr(a, b) : Infinity;
    return { name, relErr: e, ok: e <= tol };
  };
  const g1 = one[0]!.grads;
  const gN = many[0]!.grads;
  const layers = spec.model.layers.map((ls, i) => {
    const act = cmp(`x${i + 1}`, assemble(parallel, many, `x${i + 1}`), assemble(single, one, `x${i + 1}`));
    const grads = single.params.filter((p) => p.layer === i).map((p) => cmp(p.name, gN.get(p.name), g1.get(p.name)));
    const method = ls.kind === "linear" ? spec.parallel.linear : spec.parallel.softmax;
    return { index: i, kind: ls.kind, method, activation: act, grads };
  });
  const other = single.params.filter((p) => p.layer === null).map((p) => cmp(p.name, gN.get(p.name), g1.get(p.name)));
  const lossOne = one.reduce((s, r) => s + r.lossShare, 0);
  const lossMany = many.reduce((s, r) => s + r.lossShare, 0);
  const lossErr = Math.abs(lossMany - lossOne) / Math.max(Math.abs(lossOne), 1e-30);
  const bytes: string[] = [];
  many.forEach((r, w) => {
    const sp = w % parallel.mesh.sp;
    const dp = Math.floor(w / parallel.mesh.sp);
    for (const m of byteMismatches(r.bytes, expectedBytes(parallel, sp, dp))) bytes.push(`rank ${w}: ${m}`);
  });
  const all = [...layers.flatMap((l) => [l.activation, ...l.grads]), ...other];
  return {
    ranks,
    loss: { single: lossOne, parallel: lossMany, relErr: lossErr },
    layers,
    other,
    bytes,
    ok: all.every((c) => c.ok) && lossErr <= tol && bytes.length === 0,
    backend,
  };
}
