// Pass schedule-overlap: collectives become comm_start/comm_wait; overlap on hoists starts over
// independent compute and sinks waits to the first reader; off puts each wait right after its start.
import { describe, expect, it } from "vitest";
import { schedule, scheduleOverlapPass, startGradientsEarly } from "../../../compiler/passes/schedule-overlap.ts";
import { withIds, type Node } from "../../../compiler/ir/graph.ts";
import { makeSpec } from "../fixtures.ts";
import { graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("schedule-overlap", tinySpec());

const loc = { file: "t", line: 1, col: 1 };
const site = { layer: 0, phase: "forward" as const, loc };
/** a -> C(a) = g (collective) ; x = f(y) independent ; z = h(g) */
function toy(): Node[] {
  return withIds(
    [
      { op: "add", in: ["p", "p"], out: ["a"], ...site },
      { op: "add", in: ["p", "p"], out: ["y0"], ...site },
      { op: "collective", collective: "all_gather", group: "sp", parts: [{ axis: 0, shape: [1] }], bytesPerRank: 4, in: ["a"], out: ["g"], ...site },
      { op: "add", in: ["y0", "y0"], out: ["y1"], ...site },
      { op: "add", in: ["y1", "y1"], out: ["y2"], ...site },
      { op: "add", in: ["g", "y2"], out: ["z"], ...site },
    ],
    "forward",
  );
}
const shape = (ns: readonly { op: string; out: readonly string[] }[]) => ns.map((n) => (n.op === "comm_start" ? "start" : n.op === "comm_wait" ? "wait" : n.out[0]));

describe("schedule-overlap", () => {
  it("with overlap, starts right after the input is made and waits right before the first reader", () => {
    expect(shape(schedule(toy(), true))).toEqual(["a", "start", "y0", "y1", "y2", "wait", "z"]);
  });
  it("without overlap, waits at once", () => {
    expect(shape(schedule(toy(), false))).toEqual(["a", "y0", "start", "wait", "y1", "y2", "z"]);
  });
  it("leaves a blocking collective where it is, overlap or not", () => {
    const nodes = toy().map((n) => (n.op === "collective" ? { ...n, blocking: true } : n));
    for (const ov of [true, false]) expect(shape(schedule(nodes, ov))).toEqual(["a", "y0", "start", "wait", "y1", "y2", "z"]);
  });
  it("lasp1 as its reference code runs it: each layer waits for the previous rank's state before any attention compute", () => {
    for (const overlap of [true, false]) {
      const g = scheduleOverlapPass.run(graphBefore(makeSpec({ pattern: "LL", parallel: { linear: "lasp1", sp: 4, overlap } }), "schedule-overlap"), {});
      for (const [phase, first] of [["forward", "la_state"], ["backward", "la_bwd_state"]] as const) {
        for (const layer of [0, 1]) {
          const ops = g[phase].filter((n) => n.layer === layer).map((n) => n.op);
          const recv = g[phase].findIndex((n) => n.layer === layer && n.op === "comm_start" && n.recvFrom !== null && n.blocking === true);
          expect(recv).toBeGreaterThanOrEqual(0);
          expect(g[phase][recv + 1]!.op).toBe("comm_wait");
          // every kernel of the layer's attention comes after the wait; the send comes after all of them
          const at = (op: string) => g[phase].findIndex((n) => n.layer === layer && n.op === op);
          expect(at(first)).toBeGreaterThan(recv + 1);
          expect(ops.lastIndexOf("comm_start")).toBeGreaterThan(ops.indexOf(phase === "forward" ? "la_inter" : "la_bwd_inter"));
        }
      }
    }
  });
  it("never reorders two starts (every rank issues collectives in the same order)", () => {
    const g = scheduleOverlapPass.run(graphBefore(makeSpec({ pattern: "LNL", parallel: { linear: "ring", softmax: "ring", sp: 4 } }), "schedule-overlap"), {});
    const before = graphBefore(makeSpec({ pattern: "LNL", parallel: { linear: "ring", softmax: "ring", sp: 4 } }), "schedule-overlap");
    const order = (ns: readonly Node[], op: string) => ns.filter((n) => n.op === op).map((n) => (op === "collective" ? n.out[0] ?? n.in[0] : (n as { handle?: string }).handle));
    const handles = order(before.forward, "collective").map((b) => `h.${b}`);
    expect(order(g.forward, "comm_start")).toEqual(handles);
  });
  it("starts each gradient bucket inside the backward once its gradients are written; waits in grad_sync", () => {
    const g = scheduleOverlapPass.run(graphBefore(makeSpec({ pattern: "LN", parallel: { sp: 2 } }), "schedule-overlap"), {});
    expect(g.gradSync.length).toBeGreaterThan(0);
    expect(g.gradSync.every((n) => n.op === "comm_wait")).toBe(true);
    const starts = g.backward.flatMap((n, i) => (n.op === "comm_start" && n.phase === "grad_sync" ? [{ n, i }] : []));
    expect(starts.map(({ n }) => (n as { handle: string }).handle)).toEqual(g.gradSync.map((n) => (n as { handle: string }).handle));
    for (const { n, i } of starts) {
      // after the last writer of its inputs, and nothing between that writer and it but other starts
      const last = g.backward.findLastIndex((b) => b.out.some((o) => n.in.includes(o)));
      expect(last).toBeLessThan(i);
      expect(g.backward.slice(last + 1, i).every((b) => b.op === "comm_start")).toBe(true);
    }
  });
  it("with overlap off, every gradient bucket starts and is waited in grad_sync, one after the other", () => {
    const g = scheduleOverlapPass.run(graphBefore(makeSpec({ pattern: "LN", parallel: { sp: 2, overlap: false } }), "schedule-overlap"), {});
    expect(g.backward.some((n) => n.op === "comm_start" && n.phase === "grad_sync")).toBe(false);
    expect(g.gradSync.map((n) => n.op)).toEqual(g.gradSync.flatMap((_n, i) => (i % 2 === 0 ? ["comm_start", "comm_wait"] : [])));
  });
  it("keeps bucket starts in order even when a later bucket's gradients are ready first", () => {
    const mk = (id: string, out: string[]) => ({ op: "add", id, in: [], out, layer: null, phase: "backward", loc: { file: "f", line: 1, col: 1 } }) as never;
    const st = (h: string, ins: string[]) => ({ op: "comm_start", handle: h, in: ins, out: [], phase: "grad_sync" }) as never;
    const wt = (h: string) => ({ op: "comm_wait", handle: h, in: [], out: [], phase: "grad_sync" }) as never;
    const r = startGradientsEarly([mk("a", ["ga"]), mk("b", ["gb"])], [st("h1", ["gb"]), st("h2", ["ga"]), wt("h1"), wt("h2")]);
    expect(r.backward.map((n) => (n as { id?: string; handle?: string }).id ?? (n as { handle: string }).handle)).toEqual(["a", "b", "h1", "h2"]);
    expect(r.gradSync).toHaveLength(2);
  });
});
