// Pass build-backward: reverse-mode graph with per-op rules; fan-out gradients summed; every param gets
// a local gradient; the logical attention ops are differentiated as wholes.
import { describe, expect, it } from "vitest";
import { buildBackward } from "../../../compiler/passes/build-backward.ts";
import { makeSpec } from "../fixtures.ts";
import { graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("build-backward", tinySpec());

describe("build-backward", () => {
  const g = graphBefore(makeSpec({ pattern: "LN", model: { tieEmbeddings: true } }), "build-backward");
  const { backward, localGrads } = buildBackward(g);

  it("starts at the loss and gives every parameter a gradient", () => {
    expect(backward[0]!.op).toBe("xent_bwd");
    expect(Object.keys(localGrads).sort()).toEqual(g.params.map((p) => p.name).sort());
    const written = new Set(backward.flatMap((n) => n.out));
    for (const b of Object.values(localGrads)) expect(written.has(b)).toBe(true);
  });

  it("sums the two gradients of a tied embedding (LM head + lookup)", () => {
    const emb = localGrads["embed.weight"]!;
    const sum = backward.find((n) => n.out[0] === emb)!;
    expect(sum.op).toBe("add");
    const producers = sum.in.map((b) => backward.find((n) => n.out.includes(b))!.op).sort();
    expect(producers).toEqual(["embed_bwd", "matmul_bwd"]);
  });

  it("sums fan-out gradients: the residual stream and the normed input of q, k, v", () => {
    // h1 feeds wq, wk, wv: two adds; x feeds the norm and the residual add: one add per use pair
    const adds = backward.filter((n) => n.op === "add" && n.out[0]!.startsWith("d.L0.h1"));
    expect(adds).toHaveLength(2);
  });

  it("differentiates each logical attention op once, as a whole", () => {
    expect(backward.filter((n) => n.op === "linear_attn_bwd")).toHaveLength(1);
    expect(backward.filter((n) => n.op === "softmax_attn_bwd")).toHaveLength(1);
    const sa = backward.find((n) => n.op === "softmax_attn_bwd")!;
    expect(sa.in).toHaveLength(5); // q, k, v, o, do
  });
});
