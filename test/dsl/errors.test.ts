// Error fixtures: each bad line of test/fixtures/dsl/errors/*.lasp names the codes it must produce
// (`# expect: LASP2003 LASP2001`); exactly those codes are reported at exactly those lines. The printed
// diagnostics are also kept as goldens (<name>.out, rewritten by UPDATE_GOLDEN=1) to review wording.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Span } from "../../dsl/diagnostic.ts";
import { describe, expect, it } from "vitest";
import { formatDiagnostic, lineCol, loadSpecFile } from "../../dsl/index.ts";

const dir = join(import.meta.dirname, "../fixtures/dsl/errors");
const files = readdirSync(dir).filter((f) => f.endsWith(".lasp")).sort();

function expected(source: string): string[] {
  const out: string[] = [];
  source.split("\n").forEach((text, i) => {
    const m = /#\s*expect:\s*(.*)$/.exec(text);
    if (m) for (const code of m[1]!.trim().split(/\s+/)) out.push(`${i + 1}:${code}`);
  });
  return [...new Set(out)].sort();
}

describe("error fixtures", () => {
  it("cover every 2xxx, 3xxx and 4xxx code the checker can report", async () => {
    const { CODES } = await import("../../dsl/codes.ts");
    const all = files.flatMap((f) => expected(readFileSync(join(dir, f), "utf8")).map((e) => e.split(":")[1]));
    const semantic = Object.values(CODES).filter((c) => /^LASP[234]/.test(c));
    for (const c of semantic) expect(all, `no fixture expects ${c}`).toContain(c);
  });

  it.each(files)("%s reports exactly the expected codes at the expected lines", (f) => {
    const path = join(dir, f);
    const r = loadSpecFile(path);
    const want = expected(r.source);
    expect(want.length).toBeGreaterThan(0);
    // warnings (LASP2020, LASP4005) leave the spec standing; any error removes it
    expect(r.spec === undefined).toBe(r.diagnostics.some((d) => d.severity === "error"));
    for (const d of r.diagnostics) expect(d.span?.file, `${d.code} ${d.message}`).toBe(path);
    const got = [...new Set(r.diagnostics.map((d) => `${lineCol(r.source, d.span!.start).line}:${d.code}`))].sort();
    expect(got).toEqual(want);
  });

  it.each(files)("%s prints the diagnostics of its golden file", (f) => {
    const r = loadSpecFile(join(dir, f));
    // file names relative to the fixture folder, so the goldens do not depend on the checkout's path
    const rel = <T extends { span?: Span }>(x: T): T => (x.span !== undefined ? { ...x, span: { ...x.span, file: basename(x.span.file) } } : x);
    const printed = r.diagnostics
      .map((d) => formatDiagnostic({ ...rel(d), notes: d.notes?.map(rel) }, r.source, { pretty: true }))
      .join("\n\n") + "\n";
    const golden = join(dir, f.replace(/\.lasp$/, ".out"));
    if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(golden)) writeFileSync(golden, printed);
    expect(printed).toBe(readFileSync(golden, "utf8"));
  });
});
