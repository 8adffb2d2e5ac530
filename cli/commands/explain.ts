// `lasp explain SPEC|PLAN [--json] [--set p=v]...`: per-layer communication (bytes each rank receives per
// step), FLOPs and activation memory, and totals. A .json argument is read as a plan and validated.
import { loadSpecFile, formatDiagnostic } from "../../dsl/index.ts";
import { compile } from "../../compiler/index.ts";
import { explainJson, explainText } from "../../compiler/explain.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { UsageError, flagBool, flagList, parseArgs } from "../args.ts";
import type { Command } from "../main.ts";
import { readPlanFile } from "../input.ts";

export const command: Command = {
  summary: "Per-layer communication, FLOPs and memory of a spec or plan.",
  usage: "lasp explain SPEC|PLAN.json [--json] [--set path=value]...",
  async run(argv) {
    const args = parseArgs(argv, { json: { type: "boolean" }, set: { type: "list" } });
    if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? "missing SPEC or PLAN" : "expected one SPEC or PLAN");
    const file = args.positional[0]!;
    let plan: Plan;
    if (file.endsWith(".json")) {
      if (flagList(args, "set").length > 0) throw new UsageError("--set applies to a spec, not to a compiled plan");
      const p = readPlanFile(file);
      if (typeof p === "string") {
        process.stderr.write(`lasp explain: ${p}\n`);
        return 1;
      }
      plan = p;
    } else {
      const loaded = loadSpecFile(file, flagList(args, "set"));
      const pretty = process.stderr.isTTY === true;
      for (const d of loaded.diagnostics) process.stderr.write(formatDiagnostic(d, loaded.source, { pretty, color: pretty }) + "\n");
      if (loaded.spec === undefined) return 1;
      const r = compile(loaded.spec, { source: { file, text: loaded.source } });
      for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d, loaded.source, { pretty, color: pretty }) + "\n");
      if (r.plan === null) return 1;
      plan = r.plan;
    }
    process.stdout.write(flagBool(args, "json") ? JSON.stringify(explainJson(plan), null, 2) + "\n" : explainText(plan));
    return 0;
  },
};
