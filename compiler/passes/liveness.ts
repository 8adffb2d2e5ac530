// Pass liveness: for every step, the buffers no later step reads (`free`), over the whole program
// (forward, backward, gradient sync). A comm_start's inputs live until its comm_wait. Params, their
// synchronized gradients and the loss are never freed; a buffer nobody reads is freed where it is made.
import { withIds, LOSS, type Graph, type Node } from "../ir/graph.ts";
import type { Pass } from "./pass.ts";

export function liveness(g: Graph): { forward: Node[]; backward: Node[]; gradSync: Node[] } {
  const all = [...g.forward, ...g.backward, ...g.gradSync];
  const keep = new Set<string>([LOSS]);
  for (const p of g.params) {
    keep.add(p.name);
    keep.add(p.grad);
  }
  const waitAt = new Map<string, number>();
  all.forEach((n, i) => {
    if (n.op === "comm_wait") waitAt.set(n.handle, i);
  });
  const last = new Map<string, number>();
  all.forEach((n, i) => {
    for (const b of n.out) if (!last.has(b)) last.set(b, i);
    const at = n.op === "comm_start" ? (waitAt.get(n.handle) ?? i) : i;
    for (const b of n.in) last.set(b, Math.max(last.get(b) ?? -1, at));
  });
  const frees: string[][] = all.map(() => []);
  for (const [b, i] of [...last.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    if (!keep.has(b)) frees[i]!.push(b);
  }
  const annotate = (n: Node, i: number): Node => {
    const { free: _f, ...rest } = n;
    const f = frees[i]!;
    return (f.length > 0 ? { ...rest, free: f } : rest);
  };
  const nf = g.forward.length;
  const nb = g.backward.length;
  return {
    forward: g.forward.map((n, i) => annotate(n, i)),
    backward: g.backward.map((n, i) => annotate(n, nf + i)),
    gradSync: g.gradSync.map((n, i) => annotate(n, nf + nb + i)),
  };
}

export const livenessPass: Pass = {
  name: "liveness",
  summary: "free lists: each buffer is released after its last reader",
  run(g) {
    const l = liveness(g);
    return {
      ...g,
      forward: withIds(l.forward, "forward"),
      backward: withIds(l.backward, "backward"),
      gradSync: withIds(l.gradSync, "grad_sync"),
    };
  },
};
