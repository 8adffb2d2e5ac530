// train.recompute: on (every layer), off, or N (the first N layers); N over the layer count is LASP4007 at the
// value, a word other than on/off is refused with what is allowed.
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../dsl/index.ts";
import { recomputedLayers } from "../../dsl/spec.ts";
import { bad, codes, MINIMAL, ok } from "./helpers.ts";

describe("train.recompute", () => {
  it("off by default; on, off, N and 0 from the file and from --set", () => {
    const layers = ok(MINIMAL).model.layers.length;
    expect(layers).toBeGreaterThan(1);
    expect(ok(MINIMAL).train.recompute).toBe(false);
    expect(ok(MINIMAL + "train { recompute on }\n").train.recompute).toBe(true);
    expect(ok(MINIMAL + "train { recompute off }\n").train.recompute).toBe(false);
    expect(ok(MINIMAL + "train { recompute 1 }\n").train.recompute).toBe(1);
    expect(ok(MINIMAL + "train { recompute 0 }\n").train.recompute).toBe(false);
    expect(ok(MINIMAL, ["train.recompute=1"]).train.recompute).toBe(1);
    expect(ok(MINIMAL, ["train.recompute=on"]).train.recompute).toBe(true);
    expect(recomputedLayers(ok(MINIMAL + "train { recompute on }\n"))).toBe(layers);
    expect(recomputedLayers(ok(MINIMAL + "train { recompute 1 }\n"))).toBe(1);
    expect(recomputedLayers(ok(MINIMAL))).toBe(0);
    expect(recomputedLayers(ok(MINIMAL + `train { recompute ${layers} }\n`))).toBe(layers);
  });

  it("N over the layer count: LASP4007 at the value, naming the count", () => {
    const layers = ok(MINIMAL).model.layers.length;
    const src = MINIMAL + `train { recompute ${layers + 1} }\n`;
    const r = bad(src);
    expect(codes(r)).toEqual(["LASP4007"]);
    const text = formatDiagnostic(r.diagnostics[0]!, src, { color: false });
    const line = src.split("\n").length - 1;
    expect(text).toContain(`test.lasp:${line}:19: error LASP4007: recompute ${layers + 1}: the model has ${layers} layers`);
    expect(codes(bad(MINIMAL, [`train.recompute=${layers + 1}`]))).toEqual(["LASP4007"]);
  });

  it("a word other than on/off, a fraction or a negative number is refused", () => {
    const r = bad(MINIMAL + "train { recompute some }\n");
    expect(r.diagnostics[0]!.message).toMatch(/unknown value for 'recompute' \(on, off, or how many layers, the first N\) 'some': expected on, off/);
    expect(codes(bad(MINIMAL + "train { recompute 1.5 }\n")).length).toBeGreaterThan(0);
    expect(codes(bad(MINIMAL, ["train.recompute=-1"])).length).toBeGreaterThan(0);
  });
});
