// `lasp run SPEC|PLAN`: train the model across ranks (worker threads by default, MPI processes with
// --transport mpi under mpirun): progress bar, metrics JSONL, checkpoints, resume, a timeline for reports.
import * as fs from "node:fs";
import { rankEntryUrl } from "../../runtime/exec/rank-entry-url.ts";
import * as path from "node:path";
import type { Plan } from "../../compiler/plan/schema.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { spreadRanksOverGpus } from "../../runtime/backend/vk-device-tag.ts";
import type { TrainArgs, TrainRankResult } from "../../runtime/exec/train-loop.ts";
import { Progress, type ProgressUpdate } from "../../runtime/train/progress.ts";
import { UsageError, flagBool, flagInt, flagList, flagString, flagTimeoutMs, flagTransport, parseArgs } from "../args.ts";
import { loadInput } from "../input.ts";
import type { Command } from "../main.ts";
import { parseBackend } from "./verify.ts";

const FLAGS = {
  ranks: { type: "string" },
  steps: { type: "string" },
  set: { type: "list" },
  backend: { type: "string" },
  metrics: { type: "string" },
  out: { type: "string" },
  save: { type: "string" },
  "save-every": { type: "string" },
  resume: { type: "string" },
  seed: { type: "string" },
  transport: { type: "string" },
  "timeline-step": { type: "string" },
  timeout: { type: "string" },
  "no-check-finite": { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

interface RunSetup {
  readonly plan: Plan;
  readonly args: TrainArgs;
  readonly outDir: string;
  readonly timeoutMs: number;
  readonly transport: "threads" | "mpi";
}

function setup(argv: string[]): RunSetup | number {
  const a = parseArgs(argv, FLAGS);
  if (a.positional.length !== 1) throw new UsageError(a.positional.length === 0 ? "missing SPEC or PLAN" : "expected one SPEC or PLAN");
  const sets = flagList(a, "set");
  const seed = flagString(a, "seed");
  if (seed !== undefined && !/^\d+$/.test(seed)) throw new UsageError(`--seed must be a non-negative integer, got '${seed}'`);
  const file = a.positional[0]!;
  const ranks = flagString(a, "ranks") === undefined ? undefined : flagInt(a, "ranks", 1, 1);
  const loaded = loadInput("run", file, file.endsWith(".json") ? sets : seed !== undefined ? [...sets, `train.seed=${seed}`] : sets, ranks);
  if ("exit" in loaded) return loaded.exit;
  const plan = loaded.plan;
  if (seed !== undefined && file.endsWith(".json")) plan.spec.train.seed = Number(seed);
  const steps = flagInt(a, "steps", plan.spec.train.steps, 1);
  const outDir = flagString(a, "out") ?? path.join("runs", plan.spec.model.name);
  fs.mkdirSync(outDir, { recursive: true });
  const saveDir = flagString(a, "save") ?? null;
  if (saveDir !== null) fs.mkdirSync(saveDir, { recursive: true });
  const saveEvery = flagInt(a, "save-every", 0, 0);
  if (saveEvery > 0 && saveDir === null) throw new UsageError("--save-every needs --save DIR");
  const resume = flagString(a, "resume") ?? null;
  if (resume !== null && !fs.existsSync(resume)) {
    process.stderr.write(`lasp run: --resume ${resume}: no such file or directory\n`);
    return 1;
  }
  const timelineStep = flagString(a, "timeline-step") === undefined ? Math.min(1, steps - 1) : flagInt(a, "timeline-step", 0, 0);
  const timeoutMs = flagTimeoutMs(a);
  const transport = flagTransport(a);
  const args: TrainArgs = {
    job: "train",
    plan,
    backend: parseBackend(flagString(a, "backend")),
    steps,
    metricsFile: flagString(a, "metrics") ?? path.join(outDir, "metrics.jsonl"),
    outDir,
    saveDir,
    saveEvery,
    resume,
    progress: flagBool(a, "quiet") ? "none" : transport === "mpi" ? "print" : "post",
    timelineStep,
    checkFinite: !flagBool(a, "no-check-finite"),
  };
  fs.writeFileSync(path.join(outDir, "run.json"), JSON.stringify({ spec: file, model: plan.spec.model.name, mesh: plan.mesh, steps, backend: args.backend, transport, argv }, null, 2));
  return { plan, args: transport === "mpi" ? { ...args, progress: args.progress === "none" ? "none" : "print" } : args, outDir, timeoutMs, transport };
}

function summary(s: RunSetup, r: TrainRankResult): string {
  const last = r.last;
  const lines = [
    `lasp run: ${s.plan.spec.model.name} on ${s.plan.mesh.world} ranks (sp ${s.plan.mesh.sp} x dp ${s.plan.mesh.dp}), backend ${r.backend}` +
      (s.plan.spec.train.accum > 1 ? `, ${s.plan.spec.train.accum} micro-batches per step` : ""),
    last === null
      ? "  no step run (the checkpoint is already at --steps)"
      : `  steps ${r.startStep + 1}..${last.step + 1}: loss ${r.losses[0]?.toFixed(4)} -> ${last.loss.toFixed(4)}` +
        (last.accuracy !== undefined ? `, accuracy ${(last.accuracy * 100).toFixed(1)}%` : "") +
        `, ${Math.round(last.tokensPerSec)} tokens/s, ${(last.commBytesPerRank / 2 ** 20).toFixed(2)} MiB received per rank per step`,
    ...(r.evals.length > 0
      ? [
          `  held-out loss (train.eval, ${s.plan.spec.train.eval!.batches} batch(es)): ` +
            r.evals
              .slice(-4)
              .map((e) => `step ${e.step} ${e.loss.toFixed(4)}${e.accuracy !== null ? ` (${(e.accuracy * 100).toFixed(1)}%)` : ""}`)
              .join(", ") +
            (r.evals.length > 4 ? ` (last 4 of ${r.evals.length})` : ""),
        ]
      : []),
    `  metrics: ${s.args.metricsFile}` + (s.args.saveDir !== null ? `; checkpoints: ${s.args.saveDir}` : ""),
    `  report: npx lasp report ${s.outDir}`,
  ];
  return lines.join("\n") + "\n";
}

async function runThreads(s: RunSetup): Promise<number> {
  const progress = s.args.progress === "post" ? new Progress(s.args.steps, { out: process.stdout }) : null;
  await spreadRanksOverGpus(s.plan.mesh.world, s.args.backend);
  const results = await launchRanks<TrainRankResult>({
    sp: s.plan.mesh.sp,
    dp: s.plan.mesh.dp,
    // a bundled lasp (bench/device-cpu) names its bundled rank module
    entry: rankEntryUrl(),
    args: s.args,
    timeoutMs: s.timeoutMs,
    onMessage: (_rank, msg) => {
      const m = msg as { type?: string } & ProgressUpdate;
      if (m.type === "progress") progress?.update(m);
    },
  });
  progress?.finish();
  process.stdout.write(summary(s, results[0]!));
  return 0;
}

async function runMpi(s: RunSetup): Promise<number> {
  const { mpiRankContext, mpiFinalize } = await import("../../runtime/comm/mpi/index.ts");
  const ctx = await mpiRankContext(s.plan.mesh.sp, s.plan.mesh.dp, { timeoutMs: s.timeoutMs });
  const { runTrainLoop } = await import("../../runtime/exec/train-loop.ts");
  const r = await runTrainLoop(ctx, s.args);
  if (ctx.rank === 0) process.stdout.write(summary(s, r));
  mpiFinalize();
  return 0;
}

export const command: Command = {
  summary: "Train a model across ranks with LASP-2 / LASP-2H.",
  usage:
    "lasp run SPEC|PLAN [--ranks R] [--steps N] [--set path=value]... [--backend auto|wasm|cpu|tensorflow|webgpu] " +
    "[--out DIR] [--metrics FILE.jsonl] [--save DIR] [--save-every K] [--resume DIR] [--seed S] " +
    "[--transport threads|mpi] [--timeline-step K] [--timeout SECONDS] [--no-check-finite] [--quiet]",
  async run(argv) {
    const s = setup(argv);
    if (typeof s === "number") return s;
    try {
      return await (s.transport === "mpi" ? runMpi(s) : runThreads(s));
    } catch (e) {
      process.stderr.write(`\nlasp run: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
