// train.accum (gradient accumulation): default 1, set in the file or by --set, and batch must split over
// dp replicas x accum micro-batches, with the error pointing at batch and saying which multiple works.
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../dsl/index.ts";
import { compile } from "../../compiler/index.ts";
import { dims } from "../../compiler/ir/dims.ts";
import { bad, codes, MINIMAL, ok } from "./helpers.ts";

describe("train.accum", () => {
  it("defaults to 1 and reads from the file and from --set, the plan's B being one micro-batch of one replica", () => {
    expect(ok(MINIMAL).train.accum).toBe(1);
    const s = ok(MINIMAL + "parallel { dp 2 }\ntrain { batch 12 accum 3 }\n");
    expect(s.train).toMatchObject({ batch: 12, accum: 3 });
    expect(dims(s).B).toBe(2);
    expect(ok(MINIMAL + "train { batch 8 }\n", ["train.accum=4"]).train.accum).toBe(4);
    const plan = compile(s).plan!;
    expect(plan.spec.train.accum).toBe(3);
  });

  it("batch not divisible by dp x accum: LASP3006 at batch, naming both and a multiple that works", () => {
    const src = MINIMAL + "parallel { dp 2 }\ntrain { batch 6 accum 2 }\n";
    const r = bad(src);
    expect(codes(r)).toEqual(["LASP3006"]);
    const text = formatDiagnostic(r.diagnostics[0]!, src, { color: false });
    expect(text).toMatch(/test\.lasp:3:15: error LASP3006: batch 6 cannot be split evenly over dp 2 data-parallel replicas x accum 2 micro-batches: use a multiple of 4/);
  });

  it("accum 0 or a word is refused where it is written", () => {
    expect(codes(bad(MINIMAL + "train { accum 0 }\n")).length).toBeGreaterThan(0);
    expect(codes(bad(MINIMAL, ["train.accum=two"])).length).toBeGreaterThan(0);
  });
});
