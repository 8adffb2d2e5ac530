// LASP-2 vs LASP-1 vs ring, side by side, through the real DSL, compiler, plan and executor: a one-layer
// linear-attention model compiled for sp 1 and sp W, run for a few training steps on worker-thread ranks
// (each rank opens its own WebGPU device on the one GPU); step time, tokens/s, bytes vs the plan's count.
// Here: npx tsx bench/gpu/methods.ts --backend wasm --lengths 2K --ranks 2 ; device: RUN_MODE=methods run.sh
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../compiler/index.ts";
import { bytesReceived } from "../../compiler/cost/bytes.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { parseSpec } from "../../dsl/index.ts";
import type { BackendName } from "../../runtime/backend/index.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { spreadRanksOverGpus } from "../../runtime/backend/vk-device-tag.ts";
import {
  byteMismatches,
  type GroupBytes,
} from "../../runtime/exec/expected-bytes.ts";
import type {
  MethodsJob,
  MethodsProgress,
  MethodsRankResult,
  RankPlanResult,
} from "./methods-rank.ts";

type Method = "lasp2" | "lasp1" | "ring";
const METHODS: readonly Method[] = ["lasp2", "lasp1", "ring"];
/** WebGPU's maxStorageBufferBindingSize on the H100 (and Dawn's usual cap): one tensor at most */
const BINDING_LIMIT = 2147483644;

interface Args {
  lengths: number[];
  ranks: number;
  methods: Method[];
  backend: BackendName;
  warmup: number;
  reps: number;
  budgetS: number;
  slowStepS: number;
  out: string;
  hidden: number;
  heads: number;
  ffn: number;
  block: number;
  kind: string;
}

function tokens(s: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(s.trim());
  if (m === null) throw new Error(`bad length '${s}' (e.g. 16K or 16384)`);
  return (
    Number(m[1]) *
    (m[2] === "" ? 1 : m[2]!.toLowerCase() === "k" ? 1024 : 1024 * 1024)
  );
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    lengths: [16384, 65536, 131072],
    ranks: 4,
    methods: [...METHODS],
    backend: "webgpu",
    warmup: 1,
    reps: 3,
    budgetS: 200,
    slowStepS: 8,
    out: process.env["OUT"] ?? "bench/gpu/out",
    hidden: 1024,
    heads: 16,
    ffn: 1024,
    block: 256,
    kind: "lightning",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!;
    const v = argv[i + 1] ?? "";
    if (k === "--lengths") a.lengths = v.split(",").map(tokens);
    else if (k === "--ranks") a.ranks = Number(v);
    else if (k === "--methods") a.methods = v.split(",") as Method[];
    else if (k === "--backend") a.backend = v as BackendName;
    else if (k === "--warmup") a.warmup = Number(v);
    else if (k === "--reps") a.reps = Number(v);
    else if (k === "--budget-s") a.budgetS = Number(v);
    else if (k === "--slow-step-s") a.slowStepS = Number(v);
    else if (k === "--out") a.out = v;
    else if (k === "--hidden") a.hidden = Number(v);
    else if (k === "--heads") a.heads = Number(v);
    else if (k === "--ffn") a.ffn = Number(v);
    else if (k === "--block") a.block = Number(v);
    else if (k === "--kind") a.kind = v;
    else throw new Error(`methods: unknown argument ${k}`);
  }
  for (const m of a.methods)
    if (!METHODS.includes(m)) throw new Error(`methods: unknown method ${m}`);
  return a;
}

export function specText(
  a: Args,
  sp: number,
  method: Method,
  seq: number,
): string {
  return [
    `model m { vocab 256 hidden ${a.hidden} heads ${a.heads} ffn ${a.ffn} swiglu layers 1 = linear`,
    `  linear { kind ${a.kind} } }`,
    `parallel { sp ${sp} linear ${method} block ${a.block} }`,
    `train { seq ${seq} batch 1 steps 1 data random seed 0 }`,
    "",
  ].join("\n");
}

function compileOne(a: Args, sp: number, method: Method, seq: number): Plan {
  const text = specText(a, sp, method, seq);
  const file = `methods-${method}-sp${sp}-${seq}.lasp`;
  const parsed = parseSpec(text, file);
  const errs = parsed.diagnostics.filter((d) => d.severity === "error");
  if (parsed.spec === undefined || errs.length > 0)
    throw new Error(
      `spec does not parse:\n${text}${errs.map((d) => `${d.code} ${d.message}`).join("\n")}`,
    );
  const r = compile(parsed.spec, { source: { file, text } });
  if (r.plan === null)
    throw new Error(
      `spec does not compile:\n${text}${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n")}`,
    );
  return r.plan;
}

/**
 * Without the fused WGSL kernels the intra-block scores [H*C/block, block, block] are the largest tensor:
 * over the binding limit, the GPU skips dispatches. The fused diagonal tile never builds them.
 */
function fitsBinding(a: Args, sp: number, seq: number): boolean {
  if (a.backend === "webgpu" && process.env["LASP_WEBGPU_FUSED"] !== "0") return true;
  return a.heads * Math.ceil(seq / sp) * a.block * 4 <= BINDING_LIMIT;
}

/** Arena bytes per rank per group: twice the largest message any rank receives (at least 64 MiB). */
function arenaBytes(plans: readonly Plan[]): number {
  let most = 0;
  for (const p of plans) {
    const ctx = { mesh: p.mesh, rankTokens: p.estimates.rankTokens };
    for (const s of [...p.forward, ...p.backward, ...p.gradSync])
      if (s.op === "comm_start")
        for (let r = 0; r < p.mesh.sp; r++)
          most = Math.max(most, bytesReceived(s, ctx, r));
  }
  return Math.max(64 * 2 ** 20, 2 * most);
}

interface Config {
  method: Method;
  sp: number;
  seq: number;
  plan: Plan;
}

interface Row extends Config {
  ran: boolean;
  k: number;
  firstS: number;
  stepS: number;
  commWaitS: number;
  computeS: number;
  bytesPerRank: number[];
  predictedPerRank: number[];
  mismatches: string[];
  loss: number;
  gradSq: number;
  gpuErrors: number;
}

const median = (xs: number[]): number =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const mean = (xs: number[]): number =>
  xs.reduce((x, y) => x + y, 0) / xs.length;
const sumBytes = (b: GroupBytes): number =>
  [b.sp, b.dp, b.world].reduce(
    (n, g) =>
      n +
      Object.entries(g).reduce((m, [k, v]) => m + (k === "barrier" ? 0 : v), 0),
    0,
  );

function fold(c: Config, per: readonly RankPlanResult[]): Row {
  const base = {
    ...c,
    bytesPerRank: [],
    predictedPerRank: per.map((p) => sumBytes(p.predicted)),
    mismatches: [],
    loss: NaN,
    gradSq: NaN,
  };
  if (per.some((p) => p.steps === null || p.steps.length === 0))
    return {
      ...base,
      ran: false,
      k: 0,
      firstS: NaN,
      stepS: NaN,
      commWaitS: NaN,
      computeS: NaN,
      gpuErrors: 0,
    };
  const k = Math.min(...per.map((p) => p.steps!.length));
  const at = (j: number) => per.map((p) => p.steps![j]!);
  const idx = Array.from({ length: k }, (_, j) => j);
  return {
    ...base,
    ran: true,
    k,
    firstS: Math.max(...per.map((p) => p.warmupSeconds[0] ?? NaN)),
    stepS: median(idx.map((j) => Math.max(...at(j).map((s) => s.stepSeconds)))),
    commWaitS: median(
      idx.map((j) => mean(at(j).map((s) => s.commWaitSeconds))),
    ),
    computeS: median(idx.map((j) => mean(at(j).map((s) => s.computeSeconds)))),
    bytesPerRank: per.map((p) => sumBytes(p.bytes!)),
    mismatches: per.flatMap((p, r) =>
      byteMismatches(p.bytes!, p.predicted).map((m) => `rank ${r}: ${m}`),
    ),
    loss: per.reduce((n, p) => n + p.lossShare, 0),
    gradSq: per[0]!.gradSq,
    gpuErrors: per.reduce((n, p) => n + p.gpuErrors, 0),
  };
}

const fmtK = (n: number): string =>
  n % 1024 === 0 ? `${n / 1024}K` : String(n);
const fmtB = (n: number): string =>
  n >= 2 ** 20
    ? `${(n / 2 ** 20).toFixed(2)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${n} B`;
const stamp = (t0: number): string =>
  `[${((performance.now() - t0) / 1000).toFixed(1)} s]`;

function table(rows: readonly Row[]): string {
  const head =
    "| method | W | N | C/rank | k | step s (median) | tokens/s | vs lasp2 (time) | speedup vs 1 rank | comm-wait s | compute s | bytes recv/rank (max) | bytes = plan | first step s | loss | grad sum of squares vs 1 rank |";
  const out = [head, `|${" --- |".repeat(16)}`];
  for (const r of rows) {
    const lasp2 = rows.find(
      (x) => x.sp === r.sp && x.seq === r.seq && x.method === "lasp2" && x.ran,
    );
    const one = rows.find((x) => x.sp === 1 && x.seq === r.seq && x.ran);
    const name = r.sp === 1 ? "1 rank" : r.method;
    if (!r.ran) {
      out.push(
        `| ${name} | ${r.sp} | ${fmtK(r.seq)} | ${fmtK(r.seq / r.sp)} | 0 | not run (deadline) |${" |".repeat(10)}`,
      );
      continue;
    }
    const check =
      r.gpuErrors > 0
        ? `INVALID: ${r.gpuErrors} GPU errors`
        : r.mismatches.length === 0
          ? "yes"
          : `NO (${r.mismatches.length})`;
    out.push(
      [
        name,
        r.sp,
        fmtK(r.seq),
        fmtK(r.seq / r.sp),
        r.k,
        r.stepS.toFixed(3),
        Math.round(r.seq / r.stepS).toLocaleString("en-US"),
        lasp2 && r.sp > 1 ? (r.stepS / lasp2.stepS).toFixed(2) : "",
        one && r.sp > 1 ? (one.stepS / r.stepS).toFixed(2) : "",
        r.commWaitS.toFixed(3),
        r.computeS.toFixed(3),
        fmtB(Math.max(...r.bytesPerRank)),
        check,
        r.firstS.toFixed(2),
        r.loss.toFixed(5),
        one ? (r.gradSq / one.gradSq - 1).toExponential(1) : "",
      ]
        .join(" | ")
        .replace(/^/, "| ")
        .concat(" |"),
    );
  }
  return out.join("\n");
}

/** Rows as they complete (every rank posts each plan's result): printed and saved at once. */
class Collector {
  readonly rows: Row[] = [];
  readonly errors: { sp: number; error: string }[] = [];
  constructor(
    private readonly a: Args,
    readonly t0: number,
  ) {}

  add(row: Row): void {
    this.rows.push(row);
    this.rows.sort(
      (x, y) =>
        x.seq - y.seq ||
        x.sp - y.sp ||
        METHODS.indexOf(x.method) - METHODS.indexOf(y.method),
    );
    const line = table(this.rows)
      .split("\n")
      .find((l) =>
        l.startsWith(
          `| ${row.sp === 1 ? "1 rank" : row.method} | ${row.sp} | ${fmtK(row.seq)} |`,
        ),
      );
    console.log(`${stamp(this.t0)} row ${line ?? ""}`);
    console.log(`  ${bytesLine(row)}`);
    this.save();
  }

  save(): void {
    mkdirSync(this.a.out, { recursive: true });
    const json = {
      args: this.a,
      errors: this.errors,
      rows: this.rows.map(({ plan: _p, ...r }) => r),
    };
    writeFileSync(
      join(this.a.out, "methods.json"),
      JSON.stringify(json, null, 1),
    );
  }
}

function bytesLine(r: Row): string {
  const pr = `${r.method} W=${r.sp} N=${fmtK(r.seq)}`;
  if (!r.ran) return `bytes ${pr}: not run`;
  const verdict = r.mismatches.length === 0 ? "equal" : r.mismatches.join("; ");
  return `bytes ${pr}: measured per rank [${r.bytesPerRank.join(", ")}], plan [${r.predictedPerRank.join(", ")}]: ${verdict}`;
}

async function launch(
  a: Args,
  sp: number,
  cfgs: readonly Config[],
  deadlineMs: number,
  col: Collector,
): Promise<MethodsRankResult[]> {
  const bundled = import.meta.url.endsWith(".mjs");
  const entry = new URL(
    bundled ? "./methods-rank.mjs" : "./methods-rank.ts",
    import.meta.url,
  );
  const job: MethodsJob = {
    plans: cfgs.map((c) => c.plan),
    backend: a.backend,
    warmup: a.warmup,
    reps: a.reps,
    deadlineMs,
    slowStepSeconds: a.slowStepS,
  };
  // dense arrays: `every` skips the holes of `new Array(n)`
  const got = cfgs.map(() =>
    Array.from({ length: sp }, (): RankPlanResult | undefined => undefined),
  );
  await spreadRanksOverGpus(sp, a.backend);
  return launchRanks<MethodsRankResult>({
    sp,
    dp: 1,
    entry,
    args: job,
    timeoutMs: 180_000,
    capacityBytes: arenaBytes(job.plans),
    onMessage: (rank, msg) => {
      const m = msg as MethodsProgress;
      const per = got[m.done]!;
      per[rank] = m.result;
      const steps = (m.result.steps ?? [])
        .map((x) => x.stepSeconds.toFixed(3))
        .join(", ");
      const c = cfgs[m.done]!;
      console.log(
        `${stamp(col.t0)} sp ${sp} rank ${rank}: ${c.method} N=${fmtK(c.seq)} (${m.done + 1}/${m.of}) steps ${steps} s, ${m.tensors} tensors live`,
      );
      if (per.every((p) => p !== undefined))
        col.add(fold(c, per));
    },
    // how each worker ended: on its own (0) or terminated after the grace (1); a segfault at teardown
    // (the first H100 runs) would come after these lines
    onExit: (rank, code) =>
      console.log(`${stamp(col.t0)} sp ${sp} rank ${rank}: worker ${code === 0 ? "ended on its own" : `ended with code ${code} (terminated)`}`),
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const deadlineMs = Date.now() + a.budgetS * 1000;
  const one: Config[] = [];
  const many: Config[] = [];
  const skipped: string[] = [];
  for (const seq of a.lengths) {
    if (fitsBinding(a, 1, seq))
      one.push({
        method: "lasp2",
        sp: 1,
        seq,
        plan: compileOne(a, 1, "lasp2", seq),
      });
    else
      skipped.push(
        `1 rank at N=${fmtK(seq)}: intra scores over the 2 GiB binding limit at block ${a.block}`,
      );
    for (const method of a.methods)
      if (fitsBinding(a, a.ranks, seq))
        many.push({
          method,
          sp: a.ranks,
          seq,
          plan: compileOne(a, a.ranks, method, seq),
        });
      else
        skipped.push(
          `${method} W=${a.ranks} N=${fmtK(seq)}: over the binding limit`,
        );
  }
  console.log(
    `${stamp(t0)} compiled ${one.length + many.length} plans; spec of the first:\n${specText(a, a.ranks, "lasp2", a.lengths[0]!)}`,
  );
  for (const s of skipped) console.log(`skipped: ${s}`);
  const col = new Collector(a, t0);
  for (const [sp, cfgs] of [
    [1, one],
    [a.ranks, many],
  ] as const) {
    if (cfgs.length === 0) continue;
    try {
      const ranks = await launch(a, sp, cfgs, deadlineMs, col);
      console.log(
        `${stamp(t0)} sp ${sp}: backend ${ranks[0]!.backend}, init ${ranks.map((r) => r.initSeconds.toFixed(2)).join("/")} s per rank`,
      );
      // plans skipped at the deadline post nothing: their rows come from the final results
      cfgs.forEach((c, i) => {
        if (!col.rows.some((r) => r.plan === c.plan))
          col.add(
            fold(
              c,
              ranks.map((r) => r.plans[i]!),
            ),
          );
      });
    } catch (e) {
      console.log(`${stamp(t0)} sp ${sp}: FAILED: ${(e as Error).message}`);
      col.errors.push({ sp, error: (e as Error).message });
      col.save();
    }
  }
  console.log(`\n${table(col.rows)}\n`);
  for (const r of col.rows) console.log(bytesLine(r));
  console.log(`${stamp(t0)} wrote ${join(a.out, "methods.json")}`);
  const failed =
    col.errors.length > 0 ||
    col.rows.some((r) => r.ran && (r.mismatches.length > 0 || r.gpuErrors > 0));
  process.exit(failed ? 1 : 0);
}

await main();
