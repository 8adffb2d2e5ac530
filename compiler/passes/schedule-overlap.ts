// Pass schedule-overlap: each collective becomes comm_start + comm_wait. With overlap on, the start moves
// as early as its inputs allow and the wait as late as the first reader of its results allows, so
// independent compute (la_intra, the local K/V product, ...) runs between them; starts keep their order,
// and so do waits.
// With overlap off the wait follows its start at once (the synchronous baseline). A blocking collective
// (LASP-1's receive, as its reference code issues it) stays where the lowering put it either way.
import { withIds, type Graph, type Node, type Draft, type CollectiveNode } from "../ir/graph.ts";
import type { Pass } from "./pass.ts";

export function handleOf(c: { readonly in: readonly string[]; readonly out: readonly string[] }): string {
  return c.out.length > 0 ? `h.${c.out[0]}` : `h.${c.in[0] ?? "none"}.sent`;
}

function split(c: CollectiveNode): [Draft, Draft] {
  const { id: _id, op: _op, free: _free, ...attrs } = c;
  const handle = handleOf(c);
  const site = { layer: c.layer, phase: c.phase, loc: c.loc };
  return [
    { ...attrs, op: "comm_start", handle, in: [...c.in], out: [] },
    { op: "comm_wait", collective: c.collective, handle, in: [], out: [...c.out], ...site },
  ];
}

const reads = (n: Draft, bufs: readonly string[]) => n.in.some((b) => bufs.includes(b));
const writes = (n: Draft, bufs: readonly string[]) => n.out.some((b) => bufs.includes(b));

export function schedule(nodes: readonly Node[], overlap: boolean): Draft[] {
  const list: Draft[] = [];
  for (const n of nodes) {
    if (n.op === "collective") list.push(...split(n));
    else list.push(n);
  }
  if (!overlap) return list;
  const ops = list.map((n) => n);
  // hoist starts
  for (let i = 0; i < ops.length; i++) {
    const s = ops[i]!;
    if (s.op !== "comm_start" || s.blocking === true) continue;
    let j = i;
    while (j > 0) {
      const prev = ops[j - 1]!;
      if (prev.op === "comm_start" || writes(prev, s.in)) break;
      ops[j] = prev;
      j--;
    }
    ops[j] = s;
  }
  // sink waits (from the last one backwards so each sees its final neighbours)
  const blocking = new Set(ops.flatMap((n) => (n.op === "comm_start" && n.blocking === true ? [n.handle] : [])));
  for (let i = ops.length - 1; i >= 0; i--) {
    const w = ops[i]!;
    if (w.op !== "comm_wait" || blocking.has(w.handle)) continue;
    let j = i;
    while (j < ops.length - 1) {
      const next = ops[j + 1]!;
      // waits keep their relative order too (completion in start order; no overlap lost in practice)
      if (reads(next, w.out) || next.op === "comm_wait") break;
      ops[j] = next;
      j++;
    }
    ops[j] = w;
  }
  return ops;
}

export const scheduleOverlapPass: Pass = {
  name: "schedule-overlap",
  summary: "split collectives into comm_start/comm_wait; with overlap, start early and wait late",
  run(g: Graph) {
    const all = [...g.forward, ...g.backward, ...g.gradSync];
    if (!all.some((n) => n.op === "collective")) return g;
    const ov = g.spec.parallel.overlap;
    return {
      ...g,
      forward: withIds(schedule(g.forward, ov), "forward"),
      backward: withIds(schedule(g.backward, ov), "backward"),
      gradSync: withIds(schedule(g.gradSync, ov), "grad_sync"),
    };
  },
};
