// Pass schedule-overlap: collectives become comm_start/comm_wait; overlap on hoists starts over
// independent compute and sinks waits to the first reader; off puts each wait right after its start.
import { describe, expect, it } from "vitest";
import { schedule, scheduleOverlapPass } from "../../../compiler/passes/schedule-overlap.ts";
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
  it("a gradient all-reduce starts before the first wait when overlapped", () => {
    const g = scheduleOverlapPass.run(graphBefore(makeSpec({ pattern: "L" }), "schedule-overlap"), {});
    const firstWait = g.gradSync.findIndex((n) => n.op === "comm_wait");
    expect(g.gradSync.slice(0, firstWait).every((n) => n.op === "comm_start")).toBe(true);
    expect(firstWait).toBe(g.gradSync.filter((n) => n.op === "comm_start").length);
  });
});
