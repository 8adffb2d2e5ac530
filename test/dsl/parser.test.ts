// Parser: the AST the grammar builds (mixes, selectors, values with suffixes, strings, comments) and
// syntax errors, several per run thanks to Chevrotain's error recovery, each mapped to a LASP1xxx code.
import { describe, expect, it } from "vitest";
import { parseText } from "../../dsl/parse.ts";
import type { Mix } from "../../dsl/ast.ts";
import { parseSpec } from "../../dsl/index.ts";

function show(m: Mix | undefined): string {
  if (m === undefined) return "?";
  switch (m.kind) {
    case "layer":
      return m.name;
    case "list":
      return `[${m.items.map(show).join(",")}]`;
    case "repeat":
      return `(${show(m.body)})*${m.count.kind === "number" ? m.count.text : "?"}`;
  }
}

describe("parser", () => {
  it("builds a uniform settings tree with spans", () => {
    const src = "model m { vocab 256 # comment\n norm rms eps 1e-6 }\ntrain { data text \"a b.txt\" }";
    const r = parseText(src, "f.lasp");
    expect(r.diagnostics).toEqual([]);
    const [model, train] = r.ast.sections;
    expect(model!.name).toBe("model");
    expect(model!.values[0]).toMatchObject({ kind: "word", text: "m" });
    const norm = model!.children[1]!;
    expect(norm.name).toBe("norm");
    expect(norm.values[0]).toMatchObject({ kind: "word", text: "rms" });
    expect(norm.children[0]).toMatchObject({ name: "eps", values: [{ kind: "number", value: 1e-6 }] });
    expect(src.slice(norm.span.start, norm.span.end)).toBe("norm rms eps 1e-6");
    expect(train!.children[0]!.values[1]).toMatchObject({ kind: "string", value: "a b.txt" });
  });

  it("parses nested and repeated layer mixes", () => {
    const mixOf = (text: string): string => show(parseText(`model m { layers ${text} }`, "f").ast.sections[0]!.children[0]!.mix);
    expect(mixOf("16 = [linear, linear, linear, softmax] * 4")).toBe("([linear,linear,linear,softmax])*4");
    expect(mixOf("= [linear*3, softmax]*4")).toBe("([(linear)*3,softmax])*4");
    expect(mixOf("linear")).toBe("linear");
    expect(mixOf("[[linear, softmax]*2, linear]*2*3")).toBe("(([([linear,softmax])*2,linear])*2)*3");
  });

  it("reads K and M suffixes as powers of 1024, and builtin corpora without quotes", () => {
    const r = parseSpec("model m { vocab 256 hidden 64 heads 4 layers 1 = linear }\ntrain { seq 2048K batch 1 data text builtin:shakespeare }\nparallel { sp 1 }", "f");
    expect(r.diagnostics).toEqual([]);
    expect(r.spec!.train.seq).toBe(2097152);
    expect(r.spec!.train.data).toEqual({ kind: "text", path: "builtin:shakespeare" });
    const m = parseSpec("model m { vocab 256 hidden 64 heads 4 layers 1 = linear }\ntrain { seq 1M }", "f");
    expect(m.spec!.train.seq).toBe(1048576);
  });

  it("parses layer selectors: single indices, inclusive ranges, lists", () => {
    const o = parseText("model m { layer 0..3, 7 { linear { conv 2 } } }", "f").ast.sections[0]!.children[0]!;
    expect(o.name).toBe("layer");
    expect(o.select!.map((s) => [s.from.kind === "number" ? s.from.value : -1, s.to?.kind === "number" ? s.to.value : undefined])).toEqual([[0, 3], [7, undefined]]);
    expect(o.children[0]!.name).toBe("linear");
  });

  it("keeps going after syntax errors and reports each one", () => {
    const src = "model m {\n vocab 256 hidden 64 heads 4 $\n layers 2 = [linear, softmax\n}\nparallel { sp }\ntrain { seq 8 { }";
    const r = parseSpec(src, "f");
    expect(r.spec).toBeUndefined();
    const lines = r.diagnostics.map((d) => [d.code, src.slice(0, d.span!.start).split("\n").length]);
    expect(lines).toEqual([["LASP1001", 2], ["LASP1003", 4], ["LASP2007", 5], ["LASP1003", 6]]);
  });

  it("suggests the keyword a misspelt word was meant to be where only keywords fit", () => {
    const r = parseSpec("model m { vocab 256 hidden 64 heads 4 layers 1 = linear linear { decay gate rnk 4 } }", "f");
    expect(r.diagnostics.map((d) => d.code)).toContain("LASP2001");
    const bad = r.diagnostics.find((d) => d.code === "LASP2001")!;
    expect(bad.suggestion).toBe("rank");
  });

  it("reports a misspelt section once, skipping its body whatever it holds", () => {
    const r = parseSpec("modle m { vocab 256 layers 1 = [linear] { nested } }\nparallel { sp 1 }", "f");
    expect(r.diagnostics.map((d) => [d.code, d.suggestion])).toEqual([["LASP2002", "model"]]);
  });

  it("accepts a keyword as the model name, and no name at all", () => {
    const body = "{ vocab 256 hidden 64 heads 4 layers 1 = linear }";
    expect(parseSpec(`model linear ${body}`, "f").spec!.model.name).toBe("linear");
    expect(parseSpec(`model ${body}`, "f").spec!.model.name).toBe("model");
  });

  it("reports a value of the wrong type as a LASP2007, not as a syntax error", () => {
    const r = parseSpec("model m { vocab 256 hidden abc heads 4 layers 1 = linear }", "f");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["LASP2007"]);
  });

  it("reports a file with nothing in it as a missing model", () => {
    const r = parseSpec("# only a comment\n", "f");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["LASP2006"]);
  });

  it("rejects an unterminated string once, not the words after it", () => {
    const r = parseSpec('model m { vocab 256 hidden 64 heads 4 layers 1 = linear }\ntrain { data text "oops }\n}', "f");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["LASP1002"]);
  });
});

describe("grammar label convention", () => {
  // The visitor is one generic walk over these labels; a rule using another label would be dropped silently.
  const LABELS = new Set(["key", "value", "child", "is", "mix", "atom", "count", "kind", "item", "open", "end", "select", "from", "to"]);

  it("labels every consumed part a setting carries with a label the visitor reads", async () => {
    const { parser } = await import("../../dsl/grammar.ts");
    const seen = new Set<string>();
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== "object") return;
      const n = node as { label?: string; definition?: unknown[]; terminalType?: { name: string } };
      if (typeof n.label === "string") seen.add(n.label);
      // keywords (settings and their options) must always be labelled `key` or `value`
      if (n.terminalType?.name.startsWith("Kw_") === true) expect(["key", "value", "kind"]).toContain(n.label);
      if (node.constructor.name === "NonTerminal") return; // its definition is the referenced rule's
      for (const d of n.definition ?? []) walk(d);
    };
    for (const rule of Object.values(parser.getGAstProductions())) walk(rule);
    for (const l of seen) expect(LABELS, `label '${l}'`).toContain(l);
    expect(seen.size).toBeGreaterThan(10);
  });
});
