// Diagnostic printing: the short form for logs and goldens and the pretty form (source line, underline,
// notes, did-you-mean), checked against hand-written expected text.
import { describe, expect, it } from "vitest";
import { formatDiagnostic, lineCol, parseSpec } from "../../dsl/index.ts";

const SRC = "model m {\n  vocab 256 hidden 64 heads 4\n  layers 2 = [lin_attn, softmax]\n  heads 4\n}\n";

describe("formatDiagnostic", () => {
  const r = parseSpec(SRC, "model.lasp");

  it("prints the short form file:line:col: error LASPnnnn: message", () => {
    expect(r.diagnostics.map((d) => formatDiagnostic(d, r.source))).toEqual([
      "model.lasp:3:15: error LASP2003: unknown layer kind 'lin_attn': expected linear or softmax",
      "model.lasp:4:3: error LASP2005: 'heads' is set twice in model",
    ]);
  });

  it("prints the pretty form with the line, an underline, the suggestion and notes", () => {
    const lin = parseSpec(SRC.replace("lin_attn", "linea"), "model.lasp");
    expect(formatDiagnostic(lin.diagnostics[0]!, lin.source, { pretty: true })).toBe(
      [
        "model.lasp:3:15: error LASP2003: unknown layer kind 'linea': expected linear or softmax",
        "     |",
        "   3 |   layers 2 = [linea, softmax]",
        "     |               ^^^^^ did you mean 'linear'?",
      ].join("\n"),
    );
    expect(formatDiagnostic(r.diagnostics[1]!, r.source, { pretty: true })).toBe(
      [
        "model.lasp:4:3: error LASP2005: 'heads' is set twice in model",
        "     |",
        "   4 |   heads 4",
        "     |   ^^^^^",
        "     = note: first set here (model.lasp:2:23)",
        "     |",
        "   2 |   vocab 256 hidden 64 heads 4",
        "     |                       ^^^^^",
      ].join("\n"),
    );
  });

  it("colors only when asked", () => {
    const plain = formatDiagnostic(r.diagnostics[0]!, r.source, { pretty: true });
    const colored = formatDiagnostic(r.diagnostics[0]!, r.source, { pretty: true, color: true });
    expect(plain).not.toContain("\x1b[");
    expect(colored).toContain("\x1b[31merror\x1b[0m");
    expect(colored.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  it("prints a diagnostic with no span and one at the end of the file", () => {
    expect(formatDiagnostic({ code: "LASP9001", severity: "error", message: "boom" }, "")).toBe("error LASP9001: boom");
    const eof = parseSpec("model m {", "f.lasp");
    expect(formatDiagnostic(eof.diagnostics[0]!, eof.source)).toMatch(/^f\.lasp:1:10: error LASP1003: expected '}'.*found the end of the file$/);
  });
});

describe("lineCol", () => {
  it("is 1-based and counts columns in the line", () => {
    expect(lineCol("ab\ncd", 0)).toEqual({ line: 1, col: 1 });
    expect(lineCol("ab\ncd", 3)).toEqual({ line: 2, col: 1 });
    expect(lineCol("ab\ncd", 4)).toEqual({ line: 2, col: 2 });
    expect(lineCol("ab\ncd", 5)).toEqual({ line: 2, col: 3 });
  });
});
