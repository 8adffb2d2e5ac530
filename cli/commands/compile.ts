// `lasp compile SPEC [-o plan.json] [--set p=v]... [--dump-after=PASS]`: spec -> plan JSON (canonical).
// Diagnostics go to stderr in the pretty form; exit 1 on spec errors, 2 on usage errors.
import { writeFileSync } from "node:fs";
import { loadSpecFile, formatDiagnostic } from "../../dsl/index.ts";
import { compile, PASS_NAMES } from "../../compiler/index.ts";
import { canonicalJson } from "../../compiler/plan/canonical.ts";
import { UsageError, flagList, flagString, parseArgs, closest } from "../args.ts";
import type { Command } from "../main.ts";

export const command: Command = {
  summary: "Compile a .lasp spec to an execution plan (one SPMD program for all ranks).",
  usage: `lasp compile SPEC [-o plan.json] [--set path=value]... [--dump-after=PASS|all]\n  passes: ${PASS_NAMES.join(", ")}`,
  async run(argv) {
    const args = parseArgs(argv, { out: { type: "string", alias: "o" }, set: { type: "list" }, "dump-after": { type: "string" } });
    if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? "missing SPEC" : "expected one SPEC");
    const dump = flagString(args, "dump-after");
    if (dump !== undefined && dump !== "all" && !PASS_NAMES.includes(dump)) {
      const hint = closest(dump, PASS_NAMES);
      throw new UsageError(`unknown pass '${dump}'${hint !== undefined ? ` (did you mean ${hint}?)` : ""}; passes: ${PASS_NAMES.join(", ")}`);
    }
    const file = args.positional[0]!;
    const loaded = loadSpecFile(file, flagList(args, "set"));
    const pretty = process.stderr.isTTY === true;
    const report = (ds: typeof loaded.diagnostics) => {
      for (const d of ds) process.stderr.write(formatDiagnostic(d, loaded.source, { pretty, color: pretty }) + "\n");
    };
    report(loaded.diagnostics);
    if (loaded.spec === undefined) return 1;
    const r = compile(loaded.spec, { ...(dump !== undefined ? { dumpAfter: dump } : {}), source: { file, text: loaded.source } });
    report(r.diagnostics);
    for (const d of r.dumps) process.stderr.write(`// IR after ${d.pass}\n${d.text}`);
    if (r.plan === null) return 1;
    const text = canonicalJson(r.plan);
    const out = flagString(args, "out");
    if (out === undefined || out === "-") process.stdout.write(text);
    else writeFileSync(out, text);
    return 0;
  },
};
