// `lasp verify --transport mpi`: the same comparison as verify.ts with the SP ranks as MPI processes. Each
// process runs its rank's step; rank 0 also runs the one-device step in-process, gathers every rank's loss
// share, bytes and layer outputs over MPI, and builds the report (the other ranks return null).
import type { Spec } from "../../dsl/spec.ts";
import type { ByteCounts } from "../comm/communicator.ts";
import { mpiRankContext } from "../comm/mpi/index.ts";
import { SoloCommunicator } from "../comm/solo.ts";
import type { GroupBytes } from "./expected-bytes.ts";
import { rankMain, type StepJobResult } from "./rank-entry.ts";
import { rankInfo } from "./rank-info.ts";
import { compareRuns, layerOutputs, verifyPlans, type RankView, type VerifyOptions, type VerifyReport } from "./verify.ts";

const GROUPS = ["sp", "dp", "world"] as const;
const KINDS: readonly (keyof ByteCounts)[] = ["all_gather", "reduce_scatter", "all_reduce", "all_to_all", "send_recv", "barrier"];
const SPLIT = 2 ** 20;

/** Byte counters as float32 pairs (hi, lo) so counts up to 2^44 survive an all_gather exactly. */
function encodeBytes(b: GroupBytes): Float32Array {
  const out: number[] = [];
  for (const g of GROUPS) for (const k of KINDS) out.push(Math.floor(b[g][k] / SPLIT), b[g][k] % SPLIT);
  return Float32Array.from(out);
}

function decodeBytes(a: Float32Array): GroupBytes {
  const mk = (): ByteCounts => ({ all_gather: 0, reduce_scatter: 0, all_reduce: 0, all_to_all: 0, send_recv: 0, barrier: 0 });
  const out: GroupBytes = { sp: mk(), dp: mk(), world: mk() };
  let i = 0;
  for (const g of GROUPS)
    for (const k of KINDS) {
      out[g][k] = a[i]! * SPLIT + a[i + 1]!;
      i += 2;
    }
  return out;
}

export async function verifySpecMpi(spec: Spec, opts: VerifyOptions): Promise<VerifyReport | null> {
  const { single, parallel } = verifyPlans(spec, opts.ranks);
  if (parallel.mesh.dp !== 1) throw new Error("lasp verify --transport mpi compares one SP group: use dp 1");
  const ctx = await mpiRankContext(parallel.mesh.sp, 1, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
  const capture = layerOutputs(spec);
  const mine = (await rankMain(ctx, { job: "step", plan: parallel, backend: opts.backend, step: opts.step ?? 0, capture })) as StepJobResult;
  const W = ctx.sp.size;
  const losses = await ctx.sp.startAllGather(Float32Array.of(mine.lossShare), "verify:loss").wait();
  const bytes = await ctx.sp.startAllGather(encodeBytes(mine.bytes), "verify:bytes").wait();
  const info = rankInfo(parallel, ctx.sp.rank);
  const captured = new Map(mine.captured);
  const layers = new Map<string, Float32Array[]>();
  for (const name of capture) {
    const c = captured.get(name)!;
    const D = c.shape[1]!;
    const counts = info.rankTokens.map((C) => parallel.spec.train.batch * C * D);
    const all = await ctx.sp.startAllGather(c.data, `verify:${name}`, counts).wait();
    const parts: Float32Array[] = [];
    let off = 0;
    for (const n of counts) {
      parts.push(all.subarray(off, off + n));
      off += n;
    }
    layers.set(name, parts);
  }
  if (ctx.rank !== 0) return null;
  const solo = { rank: 0, world: new SoloCommunicator("world"), sp: new SoloCommunicator("sp"), dp: new SoloCommunicator("dp"), post: () => {} };
  const one = (await rankMain(solo, { job: "step", plan: single, backend: opts.backend, step: opts.step ?? 0, capture })) as StepJobResult;
  const bytesPer = Array.from({ length: W }, (_, r) => decodeBytes(bytes.subarray(r * 36, (r + 1) * 36)));
  const many: RankView[] = Array.from({ length: W }, (_, r) => ({
    lossShare: losses[r]!,
    grads: mine.grads, // summed over every rank by the plan: the same on all of them
    bytes: bytesPer[r]!,
    captured: capture.map((name) => {
      const c = captured.get(name)!;
      const data = layers.get(name)![r]!;
      return [name, { data, shape: [data.length / c.shape[1]!, c.shape[1]!] }] as [string, { data: Float32Array; shape: number[] }];
    }),
  }));
  return compareRuns(spec, { single, parallel }, [one], many, opts.tolerance, opts.ranks, one.backend);
}
