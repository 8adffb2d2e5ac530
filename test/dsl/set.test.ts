// `--set path=value`: paths in source terms replace a whole setting before checking, create missing
// blocks, and a bad path or value is a diagnostic in file "--set" pointing into the flag.
import { describe, expect, it } from "vitest";
import { formatDiagnostic, parseSpec } from "../../dsl/index.ts";
import { bad, MINIMAL, ok } from "./helpers.ts";

const FILE = MINIMAL + "parallel { sp 2 linear lasp2 }\ntrain { seq 4K optimizer adamw lr 3e-4 betas 0.9 0.95 data mqar pairs 16 }\n";

describe("--set", () => {
  it("overrides settings in every section, the later flag winning", () => {
    const s = ok(FILE, [
      "parallel.sp=8", "train.seq=64K", "model.hidden=128", "model.layers=[linear,softmax]*2",
      "model.linear.kind=gla", "train.optimizer.lr=1e-3", "parallel.overlap=off", "parallel.sp=4",
      "model.norm.eps=1e-6", "model.softmax.rope.theta=500000", "train.data.pairs=32",
    ]);
    expect(s.parallel).toMatchObject({ sp: 4, overlap: false, linear: "lasp2" });
    expect(s.train.seq).toBe(65536);
    expect(s.model.hidden).toBe(128);
    expect(s.model.headDim).toBe(32);
    expect(s.model.layers.map((l) => l.kind)).toEqual(["linear", "softmax", "linear", "softmax"]);
    expect(s.model.layers[0]!.linear!.decay).toEqual({ kind: "gate", rank: 16, tau: 16 });
    expect(s.model.layers[0]!.loc).toEqual({ file: "--set", line: 1, col: 15 }); // the mix came from the flag
    expect(s.model.norm.eps).toBe(1e-6);
    expect(s.model.layers[1]!.softmax!.ropeTheta).toBe(500000);
    expect(s.train.optimizer).toMatchObject({ lr: 1e-3, beta1: 0.9, beta2: 0.95 });
    expect(s.train.data).toEqual({ kind: "mqar", pairs: 32 });
  });

  it("replaces a whole setting: a new data source drops the old one's options", () => {
    expect(ok(FILE, ["train.data=random"]).train.data).toEqual({ kind: "random" });
    expect(ok(FILE, ["train.data=text builtin:shakespeare"]).train.data).toEqual({ kind: "text", path: "builtin:shakespeare" });
    expect(ok(FILE, ['model.linear.decay=fixed [0.9, 0.8, 0.7, 0.6]']).model.layers[0]!.linear!.decay).toEqual({ kind: "fixed", lambdas: [0.9, 0.8, 0.7, 0.6] });
    expect(ok(FILE, ["model.layers=4 = linear*4"]).model.layers).toHaveLength(4);
  });

  it("does not hide a setting duplicated in the file", () => {
    const r = bad(MINIMAL + "parallel { sp 2 sp 4 }", ["parallel.sp=8"]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["LASP2005"]);
  });

  it("creates blocks the file does not have", () => {
    const s = ok(MINIMAL, ["parallel.layout=zigzag", "train.optimizer.warmup=5"]);
    expect(s.parallel.layout).toBe("zigzag");
    expect(s.train.optimizer.warmup).toBe(5);
  });

  it("names the flag and points into it for a bad path, with a did-you-mean", () => {
    const r = bad(FILE, ["parallel.spp=8"]);
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect(d).toMatchObject({ code: "LASP2001", suggestion: "sp", span: { file: "--set", start: 9, end: 12 } });
    expect(d.message).toContain("--set parallel.spp=8");
    expect(formatDiagnostic(d, r.source)).toMatch(/^--set:1:10: error LASP2001: --set parallel.spp=8: /);
    expect(bad(FILE, ["paralel.sp=8"]).diagnostics[0]).toMatchObject({ code: "LASP2002", suggestion: "parallel" });
    expect(bad(FILE, ["model.hidden.x=1"]).diagnostics[0]!.code).toBe("LASP2001");
    expect(bad(FILE, ["model.layer=1"]).diagnostics[0]!.code).toBe("LASP1005");
    expect(bad(FILE, ["model"]).diagnostics[0]!.code).toBe("LASP1005");
    expect(bad(FILE, ["parallel=x"]).diagnostics[0]!.code).toBe("LASP1005");
  });

  it("checks the value like one written in the file, pointing into the flag", () => {
    const outOfRange = bad(FILE, ["parallel.sp=0"]).diagnostics[0]!;
    expect(outOfRange).toMatchObject({ code: "LASP2008", span: { file: "--set", start: 12, end: 13 } });
    expect(bad(FILE, ["parallel.sp=abc"]).diagnostics[0]).toMatchObject({ code: "LASP2007", span: { start: 12, end: 15 } });
    expect(bad(FILE, ["parallel.bucket=0"]).diagnostics[0]).toMatchObject({ code: "LASP2008", span: { file: "--set", start: 16, end: 17 } });
    expect(bad(FILE, ["model.linear.kind=lightnin"]).diagnostics[0]).toMatchObject({ code: "LASP2004", suggestion: "lightning" });
    expect(bad(FILE, ["parallel.linear=lasp2h"]).diagnostics[0]).toMatchObject({ code: "LASP3001", suggestion: "lasp2" });
    expect(bad(FILE, ["model.layers=[linear, softmax"]).diagnostics[0]).toMatchObject({ code: "LASP1003", span: { file: "--set" } });
    // a cross-section error caused by a flag points at the flag
    const ulysses = bad(FILE, ["model.heads=3", "model.hidden=96", "parallel.softmax=ulysses"]).diagnostics;
    expect(ulysses.map((d) => d.code)).toEqual(["LASP3002"]);
    expect(ulysses[0]!.message).toContain("--set parallel.softmax=ulysses");
  });

  it("prints a note that points into a flag as text", () => {
    const r = bad(MINIMAL + "train { seq 4 }", ["parallel.sp=8"]);
    const d = r.diagnostics[0]!;
    expect(d.code).toBe("LASP3003");
    expect(d.span!.file).toBe("test.lasp");
    expect(d.notes).toEqual([{ message: "the SP group size is set here (--set parallel.sp=8)" }]);
  });

  it("prints the flag with a caret in the pretty form", () => {
    const r = parseSpec(FILE, "f.lasp", ["train.seq=12Q"]);
    const text = r.diagnostics.map((d) => formatDiagnostic(d, r.source, { pretty: true })).join("\n");
    expect(text).toContain("train.seq=12Q");
    expect(text).toMatch(/\|\s+\^/);
  });
});
