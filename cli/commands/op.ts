// `lasp op linear-attention|softmax-attention`: one attention layer on R ranks through the model pipeline's
// passes and the plan interpreter (compiler/op, runtime/exec/op-job.ts); reads IN, writes OUT, prints the
// bytes each rank received per collective and exits 1 when they differ from the plan's prediction.
import type { ByteCounts } from "../../runtime/comm/communicator.ts";
import { buildOpPlan } from "../../compiler/op/build.ts";
import { OP_KINDS, type OpKind } from "../../compiler/op/config.ts";
import { opTensors } from "../../compiler/op/inputs.ts";
import { runOpPlan, runOpsMpi, type OpRunResult } from "../../runtime/exec/op-job.ts";
import { readSafetensors, writeSafetensors, type SafetensorsContent } from "../../runtime/io/safetensors.ts";
import { UsageError, flagBool, flagInt, flagString, flagTransport, parseArgs } from "../args.ts";
import type { Command } from "../main.ts";
import { parseBackend } from "./verify.ts";

const FLAGS = {
  ranks: { type: "string" },
  method: { type: "string" },
  causal: { type: "boolean" },
  block: { type: "string" },
  in: { type: "string" },
  out: { type: "string" },
  backend: { type: "string" },
  layout: { type: "string" },
  "no-overlap": { type: "boolean" },
  timeout: { type: "string" },
  transport: { type: "string" },
} as const;

const USAGE =
  "lasp op linear-attention|softmax-attention --ranks R --method M [--causal] [--block B] --in IN.safetensors " +
  "--out OUT.safetensors [--backend auto|wasm|cpu|tensorflow|webgpu] [--layout contiguous|zigzag] [--no-overlap] [--timeout SECONDS] [--transport threads|mpi]";

const KINDS: (keyof ByteCounts)[] = ["all_gather", "reduce_scatter", "all_reduce", "all_to_all", "send_recv"];

function required(a: ReturnType<typeof parseArgs>, name: string): string {
  const v = flagString(a, name);
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

const fail = (msg: string): number => {
  process.stderr.write(`lasp op: ${msg}\n`);
  return 1;
};

/** Bytes per rank and collective kind, measured (and the plan's figure where they differ). */
function bytesTable(r: OpRunResult, rankTokens: readonly number[]): string[] {
  const used = KINDS.filter((k) => r.bytes.some((b) => b.measured.sp[k] + b.predicted.sp[k] + b.measured.world[k] + b.predicted.world[k] > 0));
  const lines = [`bytes received per rank (float32; plan prediction in parentheses where it differs):`];
  lines.push(["rank", "tokens", ...used].map((h, i) => (i < 2 ? h.padStart(6) : h.padStart(16))).join("  "));
  r.bytes.forEach((b, rank) => {
    const cells = used.map((k) => {
      const m = b.measured.sp[k] + b.measured.dp[k] + b.measured.world[k];
      const p = b.predicted.sp[k] + b.predicted.dp[k] + b.predicted.world[k];
      return (m === p ? `${m} B` : `${m} B (${p} B)`).padStart(16);
    });
    lines.push([String(rank).padStart(6), String(rankTokens[rank]).padStart(6), ...cells].join("  "));
  });
  if (used.length === 0) lines.push("  (no collective: one rank)");
  return lines;
}

export const command: Command = {
  summary: "One attention layer on R ranks (same passes and executor as a model): IN q, k, v (decay, do) -> OUT o (dq, dk, dv).",
  usage: USAGE,
  async run(argv) {
    const a = parseArgs(argv, FLAGS);
    if (a.positional.length !== 1) throw new UsageError(a.positional.length === 0 ? "missing the kind (linear-attention or softmax-attention)" : `expected one kind, got ${a.positional.join(" ")}`);
    const kind = a.positional[0]! as OpKind;
    if (!OP_KINDS.includes(kind)) throw new UsageError(`unknown kind '${kind}' (one of ${OP_KINDS.join(", ")})`);
    required(a, "ranks");
    const ranks = flagInt(a, "ranks", 1, 1);
    const method = required(a, "method");
    const inFile = required(a, "in");
    const outFile = required(a, "out");
    const block = flagInt(a, "block", 64, 1);
    const layout = flagString(a, "layout") ?? "contiguous";
    if (layout !== "contiguous" && layout !== "zigzag") throw new UsageError(`--layout must be contiguous or zigzag, got '${layout}'`);
    const backend = parseBackend(flagString(a, "backend"));
    const timeoutS = flagInt(a, "timeout", 120, 1);
    let content: SafetensorsContent;
    try {
      content = readSafetensors(inFile);
    } catch (e) {
      return fail(`--in: ${(e as Error).message}`);
    }
    const t = opTensors(content.tensors, inFile);
    if (t.value === null) return fail(t.errors.map((e) => e.message).join("\nlasp op: "));
    const { H, N, dk, dv, lambdas, backward } = t.value;
    const causal = flagBool(a, "causal");
    const overlap = !flagBool(a, "no-overlap");
    const built = buildOpPlan({ kind, ranks, method, causal, block, layout, overlap, H, N, dk, dv, lambdas, backward });
    if (built.plan === null) return fail(built.errors.map((e) => e.message).join("\nlasp op: "));
    const transport = flagTransport(a);
    let r: OpRunResult;
    try {
      if (transport === "mpi") {
        const res = await runOpsMpi([{ op: built.plan, inputs: t.value.tensors }], { backend, timeoutMs: timeoutS * 1000 });
        if (res === null) return 0; // not rank 0: rank 0 writes OUT and prints
        r = res[0]!;
      } else r = await runOpPlan(built.plan, t.value.tensors, { backend, timeoutMs: timeoutS * 1000 });
    } catch (e) {
      return fail((e as Error).message);
    }
    const outs = new Map([...r.outputs].map(([name, g]) => [name, { shape: g.shape, data: g.data }]));
    const meta = { kind, method, ranks: String(ranks), causal: String(causal), layout, block: String(block), overlap: String(overlap) };
    try {
      writeSafetensors(outFile, outs, meta);
    } catch (e) {
      return fail(`--out: ${(e as Error).message}`);
    }
    const plan = built.plan.plan;
    const head = `lasp op: ${kind} ${method} on ${ranks} rank(s), H=${H} N=${N} Dk=${dk} Dv=${dv}, ${layout}, ${causal ? "causal" : "bidirectional"}` +
      `${lambdas !== null ? ", decay" : ""}, block ${block}, overlap ${overlap ? "on" : "off"}, backend ${r.backend}`;
    const lines = [head, ...bytesTable(r, plan.estimates.rankTokens)];
    lines.push(`wrote ${outFile}: ${[...r.outputs.keys()].join(", ")}`);
    if (r.mismatches.length > 0) {
      lines.push(`FAILED: bytes received differ from the plan's prediction:\n  ${r.mismatches.join("\n  ")}`);
      process.stdout.write(lines.join("\n") + "\n");
      return 1;
    }
    lines.push("bytes: every rank received exactly what the plan predicts");
    process.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
};
