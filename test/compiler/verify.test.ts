// The IR verifier: accepts every compiled graph; names each broken invariant of a hand-broken one
// (duplicate id, read before write, double write, wrong arity, unwaited or doubly waited collective).
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { verify } from "../../compiler/ir/verify.ts";
import type { Graph, Node } from "../../compiler/ir/graph.ts";
import { hybrid14 } from "./fixtures.ts";

const good = (): Graph => compile(hybrid14()).graph;
const withForward = (g: Graph, f: (nodes: Node[]) => Node[]): Graph => ({ ...g, forward: f([...g.forward]) });

describe("verify", () => {
  it("accepts a compiled graph", () => {
    expect(verify(good(), { lowered: { attention: true, collectives: true } })).toEqual([]);
  });

  it("flags a duplicate id", () => {
    const g = withForward(good(), (ns) => ns.map((n, i) => (i === 2 ? { ...n, id: ns[1]!.id } : n)));
    expect(verify(g)).toContainEqual(expect.stringMatching(/^duplicate id f1$/));
  });

  it("flags a read before the buffer is written", () => {
    const g = withForward(good(), (ns) => [ns[1]!, ns[0]!, ...ns.slice(2)]);
    expect(verify(g)).toContainEqual(expect.stringMatching(/reads 'x0' before it is defined/));
  });

  it("flags a buffer written twice", () => {
    const g = withForward(good(), (ns) => ns.map((n, i) => (i === 2 ? ({ ...n, out: [ns[1]!.out[0]!] }) : n)));
    expect(verify(g)).toContainEqual(expect.stringMatching(/writes 'L0.h1' a second time/));
  });

  it("flags a wrong arity", () => {
    const g = withForward(good(), (ns) => ns.map((n) => (n.op === "la_inter" ? ({ ...n, in: n.in.slice(0, 2) }) : n)));
    expect(verify(g)).toContainEqual(expect.stringMatching(/\(la_inter\) has 2 inputs \/ 1 outputs, expected 3 \/ 1/));
  });

  it("flags a comm_start never waited, and a wait without a start", () => {
    const dropWait = withForward(good(), (ns) => {
      const i = ns.findIndex((n) => n.op === "comm_wait");
      return [...ns.slice(0, i), ...ns.slice(i + 1)];
    });
    const errs = verify(dropWait);
    expect(errs).toContainEqual(expect.stringMatching(/is never waited/));
    expect(errs).toContainEqual(expect.stringMatching(/before it is defined/));
    const dropStart = withForward(good(), (ns) => ns.filter((n, i) => i !== ns.findIndex((m) => m.op === "comm_start")));
    expect(verify(dropStart)).toContainEqual(expect.stringMatching(/wait on 'h\.L0\.la\.M_all' that is not pending/));
  });

  it("flags a collective left after schedule-overlap and logical attention after insert-comm", () => {
    const g = compile(hybrid14()).graph;
    const c = { ...g, forward: [...g.forward, { op: "collective", collective: "all_reduce", group: "world", parts: [{ axis: 0, shape: [1] }], bytesPerRank: 0, in: ["loss"], out: ["loss2"], layer: null, phase: "forward", loc: g.forward[0]!.loc, id: "fx" } as Node] };
    expect(verify(c, { lowered: { attention: true, collectives: true } })).toContainEqual("fx: collective not split into start/wait");
  });

  it("counts extra program inputs as defined when given", () => {
    const g = good();
    const extra = { ...g, forward: [{ ...g.forward[1]!, id: "fz", in: ["q_in", "L0.attn_norm.weight"], out: ["zz"] } as Node, ...g.forward] };
    expect(verify(extra)).toContainEqual(expect.stringMatching(/reads 'q_in' before it is defined/));
    expect(verify(extra, { inputs: ["q_in"] }).filter((e) => e.includes("q_in"))).toEqual([]);
  });
});
