// Resolution: every default filled in, each linear variant's defaults, decay lambdas (checked against
// the formulas written out here), layer overrides and the source location of every layer.
import { describe, expect, it } from "vitest";
import { MINIMAL, ok } from "./helpers.ts";

const model = (body: string, rest = ""): string => `model m { vocab 256 hidden 64 heads 4 ${body} }\n${rest}`;

describe("defaults", () => {
  it("fills every default from the model dims and layer mix alone", () => {
    const s = ok(MINIMAL);
    expect(s.model).toMatchObject({
      name: "m", vocab: 256, hidden: 64, heads: 4, kvHeads: 4, headDim: 16, valueDim: 16, ffn: 256, ffnKind: "swiglu",
      norm: { kind: "rms", eps: 1e-5 }, tieEmbeddings: false,
    });
    expect(s.model.layers[0]).toMatchObject({ kind: "linear", linear: { variant: "basic", feature: "identity", decay: { kind: "none" }, conv: 0, causal: true } });
    expect(s.model.layers[1]).toMatchObject({ kind: "softmax", softmax: { ropeTheta: 10000, causal: true } });
    expect(s.parallel).toMatchObject({ sp: 1, dp: 1, linear: "lasp2", softmax: "lasp2h", overlap: true, layout: "contiguous", block: 64, bucket: 25 * 2 ** 20 });
    expect(s.train).toMatchObject({
      seq: 2048, batch: 1, steps: 100, dtype: "float32", seed: 0, data: { kind: "random" },
      optimizer: { kind: "adamw", lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, warmup: 0, schedule: "cosine", minLrRatio: 0.1, clip: 1 },
    });
  });

  it("takes explicit dims over derived ones", () => {
    const s = ok("model m { vocab 300 hidden 100 heads 3 head_dim 32 value_dim 48 kv_heads 1 ffn 512 gelu norm layer eps 1e-6 tie_embeddings on layers 1 = softmax }");
    expect(s.model).toMatchObject({ hidden: 100, heads: 3, headDim: 32, valueDim: 48, kvHeads: 1, ffn: 512, ffnKind: "gelu", norm: { kind: "layer", eps: 1e-6 }, tieEmbeddings: true });
  });

  it("reads every train and parallel setting", () => {
    const s = ok(MINIMAL + "parallel { sp 4 dp 2 linear ring softmax ulysses overlap off layout zigzag block 32 bucket 4M }\n" +
      "train { seq 64K batch 4 steps 7 dtype float32 seed 9 data mqar pairs 8\n optimizer adamw lr 1e-3 betas 0.8 0.99 eps 1e-6 weight_decay 0 warmup 3 schedule constant min_lr_ratio 0 clip 0 }");
    expect(s.parallel).toMatchObject({ sp: 4, dp: 2, linear: "ring", softmax: "ulysses", overlap: false, layout: "zigzag", block: 32, bucket: 4 * 2 ** 20 });
    expect(s.train).toMatchObject({
      seq: 65536, batch: 4, steps: 7, seed: 9, data: { kind: "mqar", pairs: 8 },
      optimizer: { lr: 1e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0, warmup: 3, schedule: "constant", minLrRatio: 0, clip: 0 },
    });
  });
});

describe("linear variants", () => {
  const linear = (opts: string, heads = 4) => {
    const s = ok(`model m { vocab 256 hidden ${16 * heads} heads ${heads} layers 1 = linear linear { ${opts} } }`);
    return s.model.layers[0]!.linear!;
  };

  it("lightning defaults to ALiBi-slope decays exp(-2^(-8(h+1)/H))", () => {
    const l = linear("kind lightning", 8);
    expect(l.decay.kind).toBe("fixed");
    const lambdas = (l.decay as { lambdas: number[] }).lambdas;
    expect(lambdas).toHaveLength(8);
    // H = 8: slopes 1/2, 1/4, ..., 1/256
    lambdas.forEach((x, h) => expect(x).toBeCloseTo(Math.exp(-1 / 2 ** (h + 1)), 12));
  });

  it("retention defaults to 1 - 2^(-5-h)", () => {
    const lambdas = (linear("kind retention", 4).decay as { lambdas: number[] }).lambdas;
    expect(lambdas).toEqual([1 - 1 / 32, 1 - 1 / 64, 1 - 1 / 128, 1 - 1 / 256]);
  });

  it("gla defaults to a rank-16, tau-16 gate; based to taylor2 with conv 4; rebased to square", () => {
    expect(linear("kind gla").decay).toEqual({ kind: "gate", rank: 16, tau: 16 });
    expect(linear("kind gla decay gate rank 8 tau 4").decay).toEqual({ kind: "gate", rank: 8, tau: 4 });
    expect(linear("kind based")).toEqual({ variant: "based", feature: "taylor2", decay: { kind: "none" }, conv: 4, causal: true });
    expect(linear("kind rebased")).toEqual({ variant: "rebased", feature: "square", decay: { kind: "none" }, conv: 0, causal: true });
  });

  it("takes explicit decays: one lambda for all heads, one per head, none, slopes", () => {
    expect(linear("decay fixed 0.99").decay).toEqual({ kind: "fixed", lambdas: [0.99, 0.99, 0.99, 0.99] });
    expect(linear("decay fixed [1, 0.9, 0.8, 0.5]").decay).toEqual({ kind: "fixed", lambdas: [1, 0.9, 0.8, 0.5] });
    expect(linear("kind lightning decay none").decay).toEqual({ kind: "none" });
    expect((linear("kind basic decay slopes").decay as { lambdas: number[] }).lambdas[3]).toBeCloseTo(Math.exp(-1 / 256), 12);
    expect(linear("feature silu conv 2 causal on")).toMatchObject({ feature: "silu", conv: 2 });
  });
});

describe("layer mix and overrides", () => {
  it("expands nested repetitions in order", () => {
    const s = ok(model("layers 8 = [linear*3, softmax]*2"));
    expect(s.model.layers.map((l) => l.kind[0]).join("")).toBe("lllsllls");
  });

  it("applies overrides in source order on top of the model-level block, per layer kind", () => {
    const s = ok(model(`layers 8 = [linear, linear, linear, softmax] * 2
      linear { kind lightning }
      softmax { rope theta 500000 }
      layer 0..7 { linear { conv 2 } }
      layer 1 { linear { decay fixed 0.5 } }
      layer 1, 5..6 { linear { kind basic } }
      layer 7 { softmax { rope off } }`));
    const ls = s.model.layers;
    expect(ls[0]!.linear).toMatchObject({ variant: "lightning", conv: 2, decay: { kind: "fixed" } });
    expect(ls[1]!.linear).toEqual({ variant: "basic", feature: "identity", decay: { kind: "fixed", lambdas: [0.5, 0.5, 0.5, 0.5] }, conv: 2, causal: true });
    expect(ls[5]!.linear).toMatchObject({ variant: "basic", decay: { kind: "none" }, conv: 2 });
    expect(ls[3]!.softmax).toEqual({ ropeTheta: 500000, causal: true });
    expect(ls[7]!.softmax).toEqual({ ropeTheta: null, causal: true });
  });

  it("gives each layer the location of its mix entry, or of the last override that touched it", () => {
    const src = "model m {\n  vocab 256 hidden 64 heads 4\n  layers 4 = [linear, softmax] * 2\n  layer 2 { linear { conv 2 } }\n}\n";
    const locs = ok(src).model.layers.map((l) => `${l.loc.line}:${l.loc.col}`);
    expect(locs).toEqual(["3:15", "3:23", "4:3", "3:23"]);
  });

  it("makes a bidirectional model when causal is off, and lets one layer differ", () => {
    const s = ok(model("causal off layers 3 = [linear, softmax, linear] layer 2 { linear { causal on decay fixed 0.9 } }"));
    expect(s.model.layers.map((l) => (l.linear ?? l.softmax)!.causal)).toEqual([false, false, true]);
  });
});
