// Pass check-config: each LASP31xx configuration error at the spec location that causes it, all of them
// in one run, with byte spans when the source text is given; valid specs pass untouched.
import { describe, expect, it } from "vitest";
import { checkConfig, CONFIG_CODES } from "../../../compiler/passes/check-config.ts";
import { compile } from "../../../compiler/index.ts";
import { makeSpec, hybrid14 } from "../fixtures.ts";
import { passContract, tinySpec } from "../helpers.ts";

passContract("check-config", tinySpec());

const gla = { variant: "gla" as const, feature: "identity" as const, decay: { kind: "gate" as const, rank: 4, tau: 16 }, conv: 0, causal: true };
const conv = (k: number) => ({ variant: "based" as const, feature: "identity" as const, decay: { kind: "none" as const }, conv: k, causal: true });

describe("check-config diagnostics", () => {
  const cases: [string, ReturnType<typeof makeSpec>, string][] = [
    ["seq shorter than the chunks", makeSpec({ seq: 7, parallel: { sp: 4, layout: "zigzag" } }), CONFIG_CODES.seqTooShort],
    ["heads not a multiple of kv heads", makeSpec({ model: { heads: 4, kvHeads: 3 } }), CONFIG_CODES.headsNotDivisible],
    ["ulysses heads", makeSpec({ pattern: "N", parallel: { softmax: "ulysses", sp: 4 }, model: { heads: 4, kvHeads: 2 } }), CONFIG_CODES.ulyssesHeads],
    ["lasp1 zigzag", makeSpec({ parallel: { linear: "lasp1", layout: "zigzag" } }), CONFIG_CODES.lasp1Zigzag],
    ["lasp1 bidirectional", makeSpec({ linear: { ...conv(0), causal: false }, parallel: { linear: "lasp1" } }), CONFIG_CODES.lasp1Bidirectional],
    ["ring with GLA gates", makeSpec({ linear: gla, parallel: { linear: "ring" } }), CONFIG_CODES.ringGated],
    ["conv with zigzag", makeSpec({ linear: conv(4), parallel: { layout: "zigzag" } }), CONFIG_CODES.convZigzag],
    ["conv halo longer than a chunk", makeSpec({ linear: conv(8), seq: 16, parallel: { sp: 4 } }), CONFIG_CODES.convHaloTooLong],
    ["lambda count", makeSpec({ linear: { ...conv(0), decay: { kind: "fixed", lambdas: [0.9] } } }), CONFIG_CODES.lambdasLength],
    ["rope on an odd head dim", makeSpec({ pattern: "N", model: { headDim: 7 } }), CONFIG_CODES.ropeOddDim],
    ["decay on a bidirectional layer", makeSpec({ linear: { ...conv(0), causal: false, decay: { kind: "fixed", lambdas: [0.9, 0.9, 0.9, 0.9] } } }), CONFIG_CODES.decayBidirectional],
  ];
  it.each(cases)("%s", (_name, spec, code) => {
    const ds = checkConfig(spec, {});
    expect(ds.map((d) => d.code)).toContain(code);
    const r = compile(spec);
    expect(r.plan).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toContain(code);
  });

  it("reports every error of a spec in one run", () => {
    const spec = makeSpec({ linear: gla, seq: 3, model: { heads: 4, kvHeads: 3 }, parallel: { linear: "ring", sp: 4 } });
    expect(checkConfig(spec, {}).map((d) => d.code).sort()).toEqual(
      [CONFIG_CODES.seqTooShort, CONFIG_CODES.headsNotDivisible, CONFIG_CODES.ringGated, CONFIG_CODES.ringGated].sort(),
    );
  });

  it("points at the layer's line and column when the source is known", () => {
    const spec = makeSpec({ linear: gla, parallel: { linear: "ring" } });
    const source = Array.from({ length: 20 }, (_, i) => (i === 9 ? "  linear_gla x" : `line ${i + 1}`)).join("\n");
    const [d] = checkConfig(spec, { source });
    // fixture layer 0 sits at line 10, col 3
    expect(source.slice(d!.span!.start, d!.span!.end)).toBe("linear_gla");
    expect(d!.message).not.toMatch(/\(at /);
    const [e] = checkConfig(spec, {});
    expect(e!.message).toMatch(/\(at fixture.lasp:10:3\)$/);
  });

  it("accepts valid specs", () => {
    expect(checkConfig(hybrid14(), {})).toEqual([]);
  });
});
