// Pass liveness: each buffer is freed once, after its last reader (a comm_start's inputs after the wait);
// params, synchronized gradients and the loss are never freed.
import { describe, expect, it } from "vitest";
import { livenessPass } from "../../../compiler/passes/liveness.ts";
import { allNodes, LOSS } from "../../../compiler/ir/graph.ts";
import { makeSpec } from "../fixtures.ts";
import { graphBefore, passContract, tinySpec } from "../helpers.ts";

passContract("liveness", tinySpec());

describe("liveness", () => {
  for (const parallel of [{}, { linear: "ring" as const, softmax: "ulysses" as const, sp: 2 }, { linear: "lasp1" as const, overlap: false }]) {
    it(`frees each buffer once, never before a read (${JSON.stringify(parallel)})`, () => {
      const g = livenessPass.run(graphBefore(makeSpec({ pattern: "LN", parallel }), "liveness"), {});
      const nodes = allNodes(g);
      const freedAt = new Map<string, number>();
      nodes.forEach((n, i) => {
        for (const b of n.free ?? []) {
          expect(freedAt.has(b)).toBe(false);
          freedAt.set(b, i);
        }
      });
      const waitAt = new Map<string, number>();
      nodes.forEach((n, i) => n.op === "comm_wait" && waitAt.set(n.handle, i));
      nodes.forEach((n, i) => {
        const until = n.op === "comm_start" ? waitAt.get(n.handle)! : i;
        for (const b of n.in) if (freedAt.has(b)) expect(freedAt.get(b)!).toBeGreaterThanOrEqual(until);
      });
      const keep = new Set([LOSS, ...g.params.map((p) => p.name), ...g.params.map((p) => p.grad)]);
      for (const b of keep) expect(freedAt.has(b)).toBe(false);
      const made = new Set(nodes.flatMap((n) => n.out));
      for (const b of made) if (!keep.has(b)) expect(freedAt.has(b)).toBe(true);
    });
  }
});
