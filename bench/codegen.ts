// Interpreter vs ahead-of-time compiled module (`lasp compile --emit ts`) for the same plan: training-step
// time on 2 worker ranks, the two alternating after a barrier, median of k; prints a table, asserts nothing.
// This file is also the rank entry (the main-thread part runs only in the main thread).
//   npx tsx bench/codegen.ts [--reps 5] [--warmup 1] [--cases 0,1,2]
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { parseSpec } from "../dsl/index.ts";
import { compile } from "../compiler/index.ts";
import { emitPlanModule } from "../compiler/codegen/index.ts";
import type { Plan } from "../compiler/plan/schema.ts";
import { initBackend } from "../runtime/backend/index.ts";
import type { RankContext } from "../runtime/comm/context.ts";
import { launchRanks } from "../runtime/comm/threads/launch.ts";
import { localBatch, lossScale, planDataSource } from "../runtime/exec/batch.ts";
import { assertSamePlan, loadCompiledProgram } from "../runtime/exec/compiled.ts";
import { createRankModel, runTrainStep } from "../runtime/exec/rank-model.ts";
import { seedWeights } from "../runtime/exec/seed.ts";

interface Job {
  readonly plan: Plan;
  readonly module: string;
  readonly warmup: number;
  readonly reps: number;
}
/** per rank: step seconds of the interpreter and of the compiled module, rep order; and the losses seen */
interface RankTimes {
  readonly interp: number[];
  readonly compiled: number[];
  readonly sameLoss: boolean;
}

export async function rankMain(ctx: RankContext, job: Job): Promise<RankTimes> {
  await initBackend("wasm");
  const model = createRankModel(job.plan, { sp: ctx.sp, dp: ctx.dp, world: ctx.world }, seedWeights(job.plan));
  const global = planDataSource(job.plan).next(0);
  const local = localBatch(job.plan, model.info, ctx.dp.rank, global);
  const program = await loadCompiledProgram(job.module);
  assertSamePlan(program, job.plan);
  const base = { checkFinite: false, recordTimeline: false, lossScale: lossScale(global) };
  const interp: number[] = [];
  const compiledTimes: number[] = [];
  let first: number | undefined;
  let sameLoss = true;
  for (let i = 0; i < job.warmup + job.reps; i++)
    for (const compiled of i % 2 === 0 ? [false, true] : [true, false]) {
      await ctx.world.barrier(`codegen.${i}.${compiled}`);
      const r = await runTrainStep(model, local, compiled ? { ...base, program } : base);
      if (i >= job.warmup) (compiled ? compiledTimes : interp).push(r.stepSeconds);
      first ??= r.lossShare;
      if (!Object.is(first, r.lossShare)) sameLoss = false;
    }
  return { interp, compiled: compiledTimes, sameLoss };
}

const median = (a: readonly number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

const CASES: [string, string[]][] = [
  ["small: 2 layers, D 32, N 37, B 2", ["train.seq=37", "train.batch=2", "model.hidden=32", "model.ffn=64", "model.layers=[linear, softmax]"]],
  ["tiny.lasp: 4 layers, D 64, N 256, B 8", []],
  ["8 layers, D 64, N 1024, B 2", ["train.seq=1024", "train.batch=2", "model.layers=[linear, linear, linear, softmax] * 2"]],
];

async function main(argv: readonly string[]): Promise<void> {
  const flag = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const reps = flag("reps", 5);
  const ci = argv.indexOf("--cases");
  const pick = ci >= 0 ? (argv[ci + 1] ?? "").split(",").map(Number) : CASES.map((_, i) => i);
  const warmup = flag("warmup", 1);
  const text = readFileSync(new URL("../examples/tiny.lasp", import.meta.url), "utf8");
  const dir = mkdtempSync(join(tmpdir(), "lasp-bench-codegen-"));
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  const rows: string[][] = [];
  for (const [i, [name, sets]] of CASES.entries()) {
    if (!pick.includes(i)) continue;
    const spec = parseSpec(text, "tiny.lasp", ["train.data=random", "parallel.sp=2", ...sets]).spec;
    if (spec === undefined) throw new Error(`bench spec ${name} does not parse`);
    const c = compile(spec);
    if (c.plan === null) throw new Error(`bench spec ${name} does not compile`);
    const module = join(dir, `plan${i}.ts`);
    writeFileSync(module, emitPlanModule(c.plan, c.graph, { outFile: module, generatedBy: "bench/codegen.ts" }));
    const res = await launchRanks<RankTimes>({ sp: 2, dp: 1, entry: new URL(import.meta.url), args: { plan: c.plan, module, warmup, reps } satisfies Job, timeoutMs: 600_000 });
    // a step's time is its slowest rank's
    const slowest = (key: "interp" | "compiled") => res[0]![key].map((_, k) => Math.max(...res.map((r) => r[key][k]!)));
    const si = slowest("interp");
    const sc = slowest("compiled");
    const ti = median(si);
    const tc = median(sc);
    const steps = c.plan.forward.length + c.plan.backward.length + c.plan.gradSync.length;
    const min = (a: number[]) => Math.min(...a).toFixed(4);
    const perStepUs = (((ti - tc) / steps) * 1e6).toFixed(0);
    rows.push([name, String(steps), ti.toFixed(4), tc.toFixed(4), min(si), min(sc), (ti / tc).toFixed(3), perStepUs, res.every((r) => r.sameLoss) ? "yes" : "NO"]);
    console.error(`done: ${name}`);
  }
  const head = ["plan (2 ranks, wasm)", "steps", "interp s", "compiled s", "interp min", "compiled min", "interp/compiled", "saved us/step", "same loss"];
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: readonly string[]) => r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join("  ");
  const load = (loadavg()[0] ?? 0).toFixed(1);
  console.log(`median (and min) of ${reps} steps after ${warmup} warm-up, interleaved, slowest rank; checkFinite off; load average ${load}`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

if (isMainThread) await main(process.argv.slice(2));
