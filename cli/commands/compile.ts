// `lasp compile SPEC [-o plan.json] [--set p=v]... [--dump-after=PASS] [--emit json|ts]`: spec -> plan JSON
// (canonical), or with --emit ts a generated TypeScript module (compiler/codegen). Diagnostics go to stderr
// in the pretty form; exit 1 on spec errors, 2 on usage errors.
import { writeFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { loadSpecFile, formatDiagnostic } from "../../dsl/index.ts";
import { compile, PASS_NAMES } from "../../compiler/index.ts";
import { canonicalJson } from "../../compiler/plan/canonical.ts";
import { emitPlanModule } from "../../compiler/codegen/index.ts";
import { UsageError, flagList, flagString, parseArgs, closest } from "../args.ts";
import type { Command } from "../main.ts";

export const command: Command = {
  summary: "Compile a .lasp spec to an execution plan (one SPMD program for all ranks).",
  usage:
    `lasp compile SPEC [-o plan.json] [--set path=value]... [--dump-after=PASS|all] [--emit json|ts]\n` +
    `  --emit ts: write a TypeScript module of the plan (-o FILE.ts, default <spec name>.plan.ts; an ES module:\n` +
    `    use .mts outside a "type": "module" package); run it with the step job's compiledModule\n  passes: ${PASS_NAMES.join(", ")}`,
  async run(argv) {
    const args = parseArgs(argv, { out: { type: "string", alias: "o" }, set: { type: "list" }, "dump-after": { type: "string" }, emit: { type: "string" } });
    if (args.positional.length !== 1) throw new UsageError(args.positional.length === 0 ? "missing SPEC" : "expected one SPEC");
    const dump = flagString(args, "dump-after");
    if (dump !== undefined && dump !== "all" && !PASS_NAMES.includes(dump)) {
      const hint = closest(dump, PASS_NAMES);
      throw new UsageError(`unknown pass '${dump}'${hint !== undefined ? ` (did you mean ${hint}?)` : ""}; passes: ${PASS_NAMES.join(", ")}`);
    }
    const emit = flagString(args, "emit") ?? "json";
    if (emit !== "json" && emit !== "ts") throw new UsageError(`--emit must be json or ts, got '${emit}'`);
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
    const out = flagString(args, "out");
    if (emit === "ts") {
      const path = out === undefined || out === "-" ? `${basename(file, extname(file))}.plan.ts` : out;
      writeFileSync(path, emitPlanModule(r.plan, r.graph, { outFile: path, generatedBy: `\`lasp compile --emit ts ${argv.join(" ")}\`` }));
      process.stderr.write(`wrote ${path}\n`);
      return 0;
    }
    const text = canonicalJson(r.plan);
    if (out === undefined || out === "-") process.stdout.write(text);
    else writeFileSync(out, text);
    return 0;
  },
};
