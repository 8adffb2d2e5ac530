// Pass insert-comm: logical attention and conv lowered to kernels + collectives per method; the forward
// and backward of a layer share their saved buffers (P, lse, gathered K/V, received ring blocks).
import { describe, expect, it } from "vitest";
import { insertCommPass } from "../../../compiler/passes/insert-comm.ts";
import type { Graph } from "../../../compiler/ir/graph.ts";
import { makeSpec, type SpecOptions } from "../fixtures.ts";
import { graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("insert-comm", tinySpec());

const lower = (o: SpecOptions): Graph => insertCommPass.run(graphBefore(makeSpec(o), "insert-comm"), {});
const ops = (g: Graph, phase: "forward" | "backward") => g[phase].filter((n) => n.layer === 0).map((n) => n.op);
const collectives = (g: Graph, phase: "forward" | "backward") =>
  g[phase].filter((n) => n.op === "collective" && n.layer === 0).map((n) => (n.op === "collective" ? n.collective : ""));

describe("insert-comm", () => {
  it("lasp2: la_state, all_gather, la_intra, la_prefix, la_inter forward; the mirror backward", () => {
    const g = lower({ pattern: "L", model: { kvHeads: 4 } });
    const f = ops(g, "forward").filter((o) => o.startsWith("la_") || o === "collective");
    expect(f).toEqual(["la_state", "collective", "la_intra", "la_prefix", "la_inter"]);
    const b = ops(g, "backward").filter((o) => o.startsWith("la_") || o === "collective");
    expect(b).toEqual(["la_bwd_state", "collective", "la_bwd_intra", "la_suffix", "la_bwd_inter"]);
    // the backward reads the forward's prefix state P
    expect(g.backward.some((n) => n.op === "la_bwd_inter" && n.in.includes("L0.la.P"))).toBe(true);
  });

  it("lasp2 bidirectional: no intra term; still one gather each way", () => {
    const lin = { variant: "basic" as const, feature: "identity" as const, decay: { kind: "none" as const }, conv: 0, causal: false };
    const g = lower({ pattern: "L", linear: lin });
    expect(ops(g, "forward")).not.toContain("la_intra");
    expect(ops(g, "backward")).not.toContain("la_bwd_intra");
    expect(collectives(g, "forward")).toEqual(["all_gather"]);
  });

  it("repeats K, V for GQA before the linear kernels and sums dK, dV back", () => {
    const g = lower({ pattern: "L" });
    expect(ops(g, "forward").filter((o) => o === "repeat_kv")).toHaveLength(2);
    expect(ops(g, "backward").filter((o) => o === "repeat_kv_bwd")).toHaveLength(2);
  });

  it("gated (GLA): the gate products travel in the same all_gather as the states", () => {
    const lin = { variant: "gla" as const, feature: "identity" as const, decay: { kind: "gate" as const, rank: 4, tau: 16 }, conv: 0, causal: true };
    const g = lower({ pattern: "L", linear: lin });
    const c = g.forward.find((n) => n.op === "collective")!;
    expect(c.in).toEqual(["L0.la.M", "L0.la.A"]);
    expect(g.backward.some((n) => n.op === "la_suffix" && n.in.includes("L0.la.A_all"))).toBe(true);
  });

  it("lasp1: receive P from prev, carry, send to next (and the suffix the other way)", () => {
    const g = lower({ pattern: "L", parallel: { linear: "lasp1" } });
    const f = g.forward.filter((n) => n.op === "collective");
    expect(f.map((n) => (n.op === "collective" ? [n.sendTo, n.recvFrom] : []))).toEqual([[null, "prev"], ["next", null]]);
    const b = g.backward.filter((n) => n.op === "collective");
    expect(b.map((n) => (n.op === "collective" ? [n.sendTo, n.recvFrom] : []))).toEqual([[null, "next"], ["prev", null]]);
  });

  it("ring: W-1 K/V hops forward with la_cross per hop; accumulators travel back", () => {
    const g = lower({ pattern: "LN", parallel: { linear: "ring", softmax: "ring", sp: 4 } });
    expect(ops(g, "forward").filter((o) => o === "la_cross")).toHaveLength(3);
    const sa = g.forward.filter((n) => n.layer === 1 && n.op === "sa_merge");
    expect(sa).toHaveLength(3);
    const hops = g.forward.filter((n) => n.op === "collective" && n.layer === 0).map((n) => (n.op === "collective" ? n.hop : 0));
    expect(hops).toEqual([1, 2, 3]);
    const bh = g.backward.filter((n) => n.op === "collective" && n.layer === 0).map((n) => (n.op === "collective" ? n.hop : 0));
    expect(bh).toEqual([2, 3, 4]);
  });

  it("ulysses: q, k, v to heads, o back to sequence; attention over the whole sequence", () => {
    const g = lower({ pattern: "N", parallel: { softmax: "ulysses", sp: 2 } });
    const a = g.forward.filter((n) => n.op === "collective").map((n) => (n.op === "collective" ? n.a2a!.direction : ""));
    expect(a).toEqual(["seq_to_heads", "seq_to_heads", "seq_to_heads", "heads_to_seq"]);
    const sa = g.forward.find((n) => n.op === "sa_forward")!;
    expect(sa.op === "sa_forward" && [sa.heads, sa.kvHeads, sa.qSource, sa.kvSource]).toEqual([2, 1, "gathered", "gathered"]);
  });

  it("short conv: tail + halo send_recv + short_conv forward; tail_add of the returned halo gradient backward", () => {
    const lin = { variant: "based" as const, feature: "identity" as const, decay: { kind: "none" as const }, conv: 3, causal: true };
    const g = lower({ pattern: "L", linear: lin });
    const f = ops(g, "forward");
    expect(f.filter((o) => o === "tail")).toHaveLength(3);
    expect(f.filter((o) => o === "short_conv")).toHaveLength(3);
    expect(ops(g, "backward").filter((o) => o === "tail_add")).toHaveLength(3);
    const conv = g.forward.find((n) => n.op === "short_conv")!;
    expect(conv.in[1]).toMatch(/\.halo$/);
  });
});
