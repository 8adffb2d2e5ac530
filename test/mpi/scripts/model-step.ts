// Rank module for mpirun: one training step of a plan read from a JSON file (args: {planFile, outDir}),
// through the same rank entry as the worker-thread runs; writes the loss share, summed gradients and bytes
// to outDir/rank<R>.json (big results would interleave on mpirun's forwarded stdout).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RankContext } from "../../../runtime/comm/context.ts";
import { rankMain, type StepJobResult } from "../../../runtime/exec/rank-entry.ts";

export async function rankMain_(ctx: RankContext, args: { planFile: string; outDir: string }): Promise<unknown> {
  const plan = JSON.parse(readFileSync(args.planFile, "utf8"));
  const r = (await rankMain(ctx, { job: "step", plan, backend: "wasm", step: 0 })) as StepJobResult;
  const grads = Object.fromEntries([...r.grads].map(([k, v]) => [k, Array.from(v)]));
  writeFileSync(join(args.outDir, `rank${ctx.rank}.json`), JSON.stringify({ lossShare: r.lossShare, grads, bytes: r.bytes }));
  return { ok: true };
}

export { rankMain_ as rankMain };
