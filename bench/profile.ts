// Where one rank's training step spends its time: runs a spec on ONE rank in this process (sp = dp = 1,
// solo communicators), k steps after a warm-up, and prints the time per plan op (sum over the step's
// steps of that op), sorted, with the share of the step. Prints a table; asserts nothing.
//   npx tsx bench/profile.ts SPEC [--set path=value ...] [--reps 3] [--backend wasm]
import { loadavg } from "node:os";
import { loadSpecFile, formatDiagnostic } from "../dsl/index.ts";
import { compile } from "../compiler/index.ts";
import { initBackend, type BackendName } from "../runtime/backend/index.ts";
import { SoloCommunicator } from "../runtime/comm/solo.ts";
import { localBatch, lossScale, planDataSource } from "../runtime/exec/batch.ts";
import { createRankModel, runTrainStep } from "../runtime/exec/rank-model.ts";
import { seedWeights } from "../runtime/exec/seed.ts";

async function main(argv: readonly string[]): Promise<void> {
  const file = argv[0];
  if (file === undefined || file.startsWith("--")) throw new Error("usage: npx tsx bench/profile.ts SPEC [--set path=value ...] [--reps 3] [--backend wasm]");
  const sets: string[] = ["parallel.sp=1", "parallel.dp=1"];
  let reps = 3;
  let backend = "wasm";
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === "--set") sets.push(argv[++i]!);
    else if (argv[i] === "--reps") reps = Number(argv[++i]);
    else if (argv[i] === "--backend") backend = argv[++i]!;
    else throw new Error(`unknown flag ${argv[i]}`);
  }
  const loaded = loadSpecFile(file, sets);
  if (loaded.spec === undefined) throw new Error(loaded.diagnostics.map((d) => formatDiagnostic(d, loaded.source)).join("\n"));
  const { plan, diagnostics } = compile(loaded.spec, { source: { file, text: loaded.source } });
  if (plan === null) throw new Error(diagnostics.map((d) => formatDiagnostic(d, loaded.source)).join("\n"));
  await initBackend(backend as BackendName);
  const comms = { sp: new SoloCommunicator("sp"), dp: new SoloCommunicator("dp"), world: new SoloCommunicator("world") };
  const model = createRankModel(plan, comms, seedWeights(plan));
  const global = planDataSource(plan).next(0);
  const local = localBatch(plan, model.info, 0, global);
  const opts = { checkFinite: false, recordTimeline: true, lossScale: lossScale(global) };
  await runTrainStep(model, local, opts);
  const byOp = new Map<string, number>();
  const steps: number[] = [];
  for (let r = 0; r < reps; r++) {
    const res = await runTrainStep(model, local, opts);
    steps.push(res.stepSeconds);
    for (const e of res.timeline ?? []) {
      const op = e.label.split(" ")[0]!;
      byOp.set(op, (byOp.get(op) ?? 0) + (e.t1 - e.t0) / reps);
    }
  }
  const step = steps.reduce((a, b) => a + b, 0) / reps;
  const tokens = local.tokens.length;
  console.log(`${file} ${sets.slice(2).join(" ")} backend ${backend}, ${tokens} tokens/step, load ${loadavg()[0]!.toFixed(1)}`);
  console.log(`step ${(step * 1000).toFixed(1)} ms (mean of ${reps}), ${(tokens / step).toFixed(0)} tokens/s`);
  console.log("| op | ms/step | share |\n|---|---|---|");
  for (const [op, t] of [...byOp].sort((a, b) => b[1] - a[1]))
    console.log(`| ${op} | ${(t * 1000).toFixed(1)} | ${((100 * t) / step).toFixed(1)}% |`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
