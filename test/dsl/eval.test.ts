// train.eval: `eval every K [batches B] [holdout F]`, off by default and with `eval off`; `every` is required.
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../dsl/index.ts";
import { bad, codes, MINIMAL, ok } from "./helpers.ts";

describe("train.eval", () => {
  it("off by default; every, batches and holdout from the file and from --set", () => {
    expect(ok(MINIMAL).train.eval).toBeNull();
    expect(ok(MINIMAL + "train { eval off }\n").train.eval).toBeNull();
    expect(ok(MINIMAL + "train { eval every 5 }\n").train.eval).toEqual({ every: 5, batches: 2, holdout: 0.1 });
    expect(ok(MINIMAL + "train { eval every 5 batches 3 holdout 0.2 }\n").train.eval).toEqual({ every: 5, batches: 3, holdout: 0.2 });
    expect(ok(MINIMAL, ["train.eval.every=4"]).train.eval).toEqual({ every: 4, batches: 2, holdout: 0.1 });
    expect(ok(MINIMAL + "train { eval every 5 }\n", ["train.eval.batches=7"]).train.eval).toEqual({ every: 5, batches: 7, holdout: 0.1 });
  });

  it("without every: LASP2006 at eval, with an example", () => {
    const src = MINIMAL + "train { eval batches 2 }\n";
    const r = bad(src);
    expect(codes(r)).toEqual(["LASP2006"]);
    expect(formatDiagnostic(r.diagnostics[0]!, src, { color: false })).toMatch(/test\.lasp:2:9: error LASP2006: eval needs how often: eval every K/);
  });

  it("values out of range are refused where they are written", () => {
    expect(codes(bad(MINIMAL + "train { eval every 0 }\n"))).toEqual(["LASP2008"]);
    expect(codes(bad(MINIMAL + "train { eval every 5 holdout 0.9 }\n"))).toEqual(["LASP2008"]);
    expect(codes(bad(MINIMAL + "train { eval every 5 batches 0 }\n"))).toEqual(["LASP2008"]);
    expect(codes(bad(MINIMAL + "train { eval maybe every 5 }\n")).length).toBeGreaterThan(0);
  });
});
