// `lasp eval SPEC|PLAN --resume CKPT`: the held-out loss of a checkpoint (or, without --resume, of the seed's
// initial weights) on R ranks, forward only: the same evaluation `train { eval ... }` runs during training.
import * as fs from "node:fs";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { spreadRanksOverGpus } from "../../runtime/backend/vk-device-tag.ts";
import { rankEntryUrl } from "../../runtime/exec/rank-entry-url.ts";
import { trainSpecHash, type EvalArgs, type EvalRankResult } from "../../runtime/exec/train-loop.ts";
import { EVAL_DEFAULTS } from "../../dsl/check/train.ts";
import { UsageError, flagBool, flagInt, flagList, flagString, flagTimeoutMs, flagTransport, parseArgs } from "../args.ts";
import { loadInput } from "../input.ts";
import type { Command } from "../main.ts";
import { parseBackend } from "./verify.ts";

export const command: Command = {
  summary: "Held-out loss of a checkpoint on R ranks (forward only), as train { eval ... } measures it.",
  usage:
    "lasp eval SPEC|PLAN [--resume CKPT|RUN_DIR] [--ranks R] [--batches B] [--set path=value]... " +
    "[--backend auto|wasm|cpu|tensorflow|webgpu] [--timeout SECONDS] [--json] [--transport threads|mpi]",
  async run(argv) {
    const a = parseArgs(argv, {
      resume: { type: "string" },
      ranks: { type: "string" },
      batches: { type: "string" },
      set: { type: "list" },
      backend: { type: "string" },
      timeout: { type: "string" },
      json: { type: "boolean" },
      transport: { type: "string" },
    });
    const transport = flagTransport(a);
    if (a.positional.length !== 1) throw new UsageError(a.positional.length === 0 ? "missing SPEC or PLAN" : "expected one SPEC or PLAN");
    const file = a.positional[0]!;
    const ranks = flagString(a, "ranks") === undefined ? undefined : flagInt(a, "ranks", 1, 1);
    const loaded = loadInput("eval", file, flagList(a, "set"), ranks);
    if ("exit" in loaded) return loaded.exit;
    const trained = loaded.plan;
    const resume = flagString(a, "resume") ?? null;
    if (resume !== null && !fs.existsSync(resume)) {
      process.stderr.write(`lasp eval: --resume ${resume}: no such file or directory\n`);
      return 1;
    }
    const timeoutMs = flagTimeoutMs(a);
    // the checkpoint matches the spec as trained; the evaluation settings are the spec's, or the defaults
    const t = trained.spec.train;
    const base = t.eval ?? { every: 1, batches: EVAL_DEFAULTS.batches, holdout: EVAL_DEFAULTS.holdout };
    const evaluation = { ...base, batches: flagInt(a, "batches", base.batches, 1) };
    const plan = { ...trained, spec: { ...trained.spec, train: { ...t, eval: evaluation } } };
    const args: EvalArgs = {
      job: "eval",
      plan,
      backend: parseBackend(flagString(a, "backend")),
      resume,
      specHash: trainSpecHash(trained),
      checkFinite: true,
    };
    let r: EvalRankResult;
    try {
      if (transport === "mpi") {
        // one rank per process under mpirun; rank 0 reports
        const { mpiRankContext, mpiFinalize } = await import("../../runtime/comm/mpi/index.ts");
        const { runEvalJob } = await import("../../runtime/exec/train-loop.ts");
        const ctx = await mpiRankContext(plan.mesh.sp, plan.mesh.dp, { timeoutMs });
        r = await runEvalJob(ctx, args);
        const rank = ctx.rank;
        mpiFinalize();
        if (rank !== 0) return 0;
      } else {
        await spreadRanksOverGpus(plan.mesh.world, args.backend);
        r = (await launchRanks<EvalRankResult>({ sp: plan.mesh.sp, dp: plan.mesh.dp, entry: rankEntryUrl(), args, timeoutMs }))[0]!;
      }
    } catch (e) {
      process.stderr.write(`lasp eval: ${(e as Error).message}\n`);
      return 1;
    }
    const unseen = t.data.kind !== "text" || t.eval !== null;
    if (flagBool(a, "json")) {
      process.stdout.write(JSON.stringify({ ...r, batches: evaluation.batches, unseen }, null, 2) + "\n");
      return 0;
    }
    const { sp, dp } = plan.mesh;
    const lines = [
      `lasp eval: ${plan.spec.model.name} on ${plan.mesh.world} ranks (sp ${sp} x dp ${dp}), backend ${r.backend}`,
      `  weights: ${r.checkpoint === null ? "the seed's initial weights (no --resume)" : `${r.checkpoint} (after step ${r.step})`}`,
      `  held-out loss ${r.loss.toFixed(4)}${r.accuracy !== null ? `, accuracy ${(r.accuracy * 100).toFixed(1)}%` : ""} over ${evaluation.batches} batch(es) of ` +
        `${t.batch} x ${t.seq} tokens`,
      `  data: ${r.data}`,
      ...(unseen
        ? []
        : ["  note: the spec has no train.eval, so training read the whole corpus: these held-out bytes were trained on too"]),
    ];
    process.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
};
