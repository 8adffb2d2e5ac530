// `lasp verify --transport mpi`: the same comparison as verify.ts with the SP ranks as MPI processes. Each
// process runs its rank's step; rank 0 also runs the one-device step in-process, gathers every rank's loss
// share, bytes and layer outputs over MPI, and builds the report (the other ranks return null).
import type { Spec } from "../../dsl/spec.ts";
import { mpiRankContext } from "../comm/mpi/index.ts";
import { SoloCommunicator } from "../comm/solo.ts";
import { BYTES_WIDTH, decodeBytes, encodeBytes } from "./mpi-gather.ts";
import { rankMain, type StepJobResult } from "./rank-entry.ts";
import { rankInfo } from "./rank-info.ts";
import { compareRuns, layerOutputs, verifyPlans, type RankView, type VerifyOptions, type VerifyReport } from "./verify.ts";

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
  const bytesPer = Array.from({ length: W }, (_, r) => decodeBytes(bytes.subarray(r * BYTES_WIDTH, (r + 1) * BYTES_WIDTH)));
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
