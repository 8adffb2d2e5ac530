// Pass expand-layers: the forward graph and the parameter table of a spec.
import { describe, expect, it } from "vitest";
import { expandLayers } from "../../../compiler/passes/expand-layers.ts";
import { makeSpec } from "../fixtures.ts";
import { passContract, tinySpec } from "../helpers.ts";

passContract("expand-layers", tinySpec());

describe("expand-layers", () => {
  it("emits one logical attention op per layer, of the layer's kind and method", () => {
    const { forward } = expandLayers(makeSpec({ pattern: "LLLN" }));
    expect(forward.filter((n) => n.op === "linear_attn").map((n) => n.layer)).toEqual([0, 1, 2]);
    expect(forward.filter((n) => n.op === "softmax_attn").map((n) => n.layer)).toEqual([3]);
    expect(forward[0]!.op).toBe("embed");
    expect(forward.at(-1)!.op).toBe("xent");
  });

  it("has the Llama parameter set with the right shapes and a count that matches a hand sum", () => {
    const spec = makeSpec({ pattern: "LN" }); // D 32, H 4, Hkv 2, dk dv 8, F 64, V 64
    const { params } = expandLayers(spec);
    const byName = new Map(params.map((p) => [p.name, p.shape]));
    expect(byName.get("L0.wq")).toEqual([32, 32]);
    expect(byName.get("L0.wk")).toEqual([32, 16]);
    expect(byName.get("L1.wo")).toEqual([32, 32]);
    expect(byName.get("lm_head.weight")).toEqual([32, 64]);
    const perLayer = 32 * 32 + 2 * 32 * 16 + 32 * 32 + 3 * 32 * 64 + 2 * 32;
    const total = params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(total).toBe(2 * perLayer + 64 * 32 + 32 + 32 * 64);
  });

  it("ties the LM head to the embedding when asked (matmul with transB, no lm_head param)", () => {
    const { forward, params } = expandLayers(makeSpec({ model: { tieEmbeddings: true } }));
    expect(params.some((p) => p.name === "lm_head.weight")).toBe(false);
    const head = forward.find((n) => n.out[0] === "logits")!;
    expect(head.op === "matmul" && head.transB).toBe(true);
    expect(head.in[1]).toBe("embed.weight");
  });

  it("normalises the loss by the global token count (train.batch is the global batch: B = batch / dp per replica)", () => {
    const { forward } = expandLayers(makeSpec({ seq: 100, batch: 4, parallel: { dp: 2 } }));
    const x = forward.at(-1)!;
    expect(x.op === "xent" && x.scale).toBe(1 / 400);
    const e = forward.find((n) => n.op === "heads")!;
    expect(e.op === "heads" && e.batch).toBe(2);
  });

  it("adds conv, feature and gate ops and params for the linear variants", () => {
    const lin = { variant: "gla" as const, feature: "square" as const, decay: { kind: "gate" as const, rank: 4, tau: 16 }, conv: 4, causal: true };
    const { forward, params } = expandLayers(makeSpec({ pattern: "L", linear: lin }));
    expect(forward.filter((n) => n.op === "conv")).toHaveLength(3);
    expect(forward.filter((n) => n.op === "feature")).toHaveLength(2);
    expect(forward.filter((n) => n.op === "gate_proj")).toHaveLength(1);
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(["L0.conv_q.weight", "L0.feat_k.gamma", "L0.wg1", "L0.wg2"]));
    const la = forward.find((n) => n.op === "linear_attn")!;
    expect(la.op === "linear_attn" && la.gated).toBe(true);
    expect(la.in).toHaveLength(4);
  });

  it("widens the key dim for Based's taylor2 feature map", () => {
    const lin = { variant: "based" as const, feature: "taylor2" as const, decay: { kind: "none" as const }, conv: 0, causal: true };
    const la = expandLayers(makeSpec({ pattern: "L", linear: lin })).forward.find((n) => n.op === "linear_attn")!;
    expect(la.op === "linear_attn" && la.dk).toBe(1 + 8 + 64);
  });
});
