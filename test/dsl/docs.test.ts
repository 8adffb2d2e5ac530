// The docs stay current: grammar.html is what dsl/diagrams.ts generates now, and LANGUAGE.md names
// every keyword of the grammar and every diagnostic code.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODES } from "../../dsl/codes.ts";
import { grammarHtml } from "../../dsl/diagrams.ts";
import { KEYWORDS } from "../../dsl/tokens.ts";

const docs = join(import.meta.dirname, "../../docs");

describe("docs", () => {
  it("docs/grammar.html is current (regenerate: npx tsx dsl/diagrams.ts)", () => {
    const html = readFileSync(join(docs, "grammar.html"), "utf8");
    expect(html).toBe(grammarHtml());
    expect(html).toContain("layersSetting");
  });

  it("docs/LANGUAGE.md documents every keyword and every code", () => {
    const md = readFileSync(join(docs, "LANGUAGE.md"), "utf8");
    for (const k of KEYWORDS) expect(md, k).toMatch(new RegExp(`\\b${k}\\b`));
    for (const c of Object.values(CODES)) expect(md, c).toContain(`| ${c} |`);
  });
});
