// Shared setup of the codegen tests: the small hybrid spec's plan and graph, a generated module written to a
// temporary folder, and the TypeScript diagnostics of a generated file under the project's tsconfig.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Project } from "ts-morph";
import { compile } from "../../compiler/index.ts";
import { emitPlanModule } from "../../compiler/codegen/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import type { Graph } from "../../compiler/ir/graph.ts";
import { smallSpec } from "../exec/helpers.ts";

export function smallPlan(over: readonly string[] = []): { plan: Plan; graph: Graph } {
  const r = compile(smallSpec(over));
  if (r.plan === null) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return { plan: r.plan, graph: r.graph };
}

/** Generates the module for `plan` into a fresh temporary folder (an ES module scope); returns its path and text. */
export function writeModule(plan: Plan, graph: Graph | null): { path: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), "lasp-codegen-"));
  // an ES module, as inside the repository (outside a "type": "module" package, name it .mts)
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  const path = join(dir, "plan.ts");
  const text = emitPlanModule(plan, graph, { outFile: path, generatedBy: "test/codegen" });
  writeFileSync(path, text);
  return { path, text };
}

const TSCONFIG = new URL("../../tsconfig.json", import.meta.url);

/** Type errors of generated files (one list per file), checked in one program with the project's options. */
export function typeErrors(paths: readonly string[]): string[][] {
  const p = new Project({ tsConfigFilePath: TSCONFIG.pathname, skipAddingFilesFromTsConfig: true });
  const files = paths.map((f) => p.addSourceFileAtPath(f));
  return files.map((sf) =>
    sf.getPreEmitDiagnostics().map((d) => {
      const msg = d.getMessageText();
      return `${sf.getBaseName()}:${d.getLineNumber() ?? 0}: ${typeof msg === "string" ? msg : msg.getMessageText()}`.slice(0, 400);
    }),
  );
}
