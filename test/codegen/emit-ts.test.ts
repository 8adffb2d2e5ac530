// The generated module: header, embedded plan, one handler call per plan step in plan order (phase by
// phase), frees after their step, comm pairs and rank-0 shapes in comments; and it type-checks (a module
// with a step's handler swapped for another op's does not, so the check is not vacuous).
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Node, Project, SyntaxKind } from "ts-morph";
import { describe, expect, it } from "vitest";
import type { Step } from "../../compiler/plan/schema.ts";
import { smallPlan, typeErrors, writeModule } from "./helpers.ts";

const { plan, graph } = smallPlan();
const mod = writeModule(plan, graph);

/** Per exported phase function: the steps its `await H.<op>(S.<id>, x)` statements call, in order. */
function calledSteps(text: string): Record<string, { op: string; id: string }[]> {
  const sf = new Project({ useInMemoryFileSystem: true }).createSourceFile("/m.ts", text);
  const out: Record<string, { op: string; id: string }[]> = {};
  for (const name of ["forward", "backward", "gradSync"]) {
    const fn = sf.getFunctionOrThrow(name);
    out[name] = fn.getStatements().flatMap((st) => {
      const call = Node.isExpressionStatement(st) ? st.getExpression().asKind(SyntaxKind.AwaitExpression)?.getExpression().asKind(SyntaxKind.CallExpression) : undefined;
      const callee = call?.getExpression().getText() ?? "";
      if (!callee.startsWith("H.")) return [];
      return [{ op: callee.slice(2), id: call!.getArguments()[0]!.getText().replace(/^S\./, "") }];
    });
  }
  return out;
}

describe("lasp compile --emit ts: the generated module", () => {
  it("has one handler call per plan step, in plan order, calling that step's op", () => {
    const got = calledSteps(mod.text);
    const want = (steps: Step[]) => steps.map((s) => ({ op: s.op, id: s.id }));
    expect(got["forward"]).toEqual(want(plan.forward));
    expect(got["backward"]).toEqual(want(plan.backward));
    expect(got["gradSync"]).toEqual(want(plan.gradSync));
    expect(plan.forward.length + plan.backward.length).toBeGreaterThan(50);
  });

  it("inlines each step's frees right after it, and shows comm pairs, layers and shapes", () => {
    const lines = mod.text.split("\n").map((l) => l.trim());
    for (const s of [...plan.forward, ...plan.backward, ...plan.gradSync]) {
      const after = lines.indexOf(`await afterStep(S.${s.id}, x, o, t);`);
      expect(after).toBeGreaterThan(0);
      expect(lines.slice(after + 1, after + 1 + (s.free ?? []).length)).toEqual((s.free ?? []).map((f) => `x.env.free(${JSON.stringify(f)});`));
    }
    expect(lines[0]).toMatch(/^\/\/ Compiled lasp plan: model 'tiny'.*mesh sp 2 x dp 1 = world 2/);
    expect(mod.text).toContain("// ---- layer 0: linear attention, method lasp2");
    expect(mod.text).toContain("// ---- layer 1: softmax attention, method lasp2h");
    expect(mod.text).toMatch(/\/\/ f\d+ comm_start\(L0\.la\.M\) -> \(\); START all_gather over sp, handle h\.L0\.la\.M_all/);
    expect(mod.text).toMatch(/\/\/ f\d+ comm_wait\(\) -> L0\.la\.M_all \[2, 8, 8, 8\]; WAIT all_gather, handle h\.L0\.la\.M_all/);
    expect(mod.text).toContain("// f0 embed(tokens, embed.weight) -> x0 [38, 32]");
    expect(mod.text).toContain("export const program: CompiledProgram = { forward, backward, gradSync, plan: PLAN };");
  });

  it("type-checks under the project's tsconfig; a swapped handler does not", () => {
    const bad = join(dirname(mod.path), "bad.ts");
    copyFileSync(mod.path, bad);
    const f = plan.forward.find((s) => s.op === "la_state")!;
    const text = readFileSync(bad, "utf8").replace(`await H.la_state(S.${f.id}, x);`, `await H.sa_forward(S.${f.id}, x);`);
    writeFileSync(bad, text);
    const [good, broken] = typeErrors([mod.path, bad]);
    expect(good).toEqual([]);
    expect(broken!.length).toBeGreaterThan(0);
  });
});
