// Pass schedule-overlap: each collective becomes comm_start + comm_wait. With overlap on, the start moves
// as early as its inputs allow and the wait as late as the first reader of its results allows, so
// independent compute (la_intra, the local K/V product, ...) runs between them; starts keep their order,
// and so do waits.
// With overlap off the wait follows its start at once (the synchronous baseline). A blocking collective
// (LASP-1's receive, as its reference code issues it) stays where the lowering put it either way.
// Gradient buckets (grad-sync.ts) with overlap on: each bucket's all_reduce starts inside the backward,
// right after the step that finishes the last of its gradients, as DDP launches a bucket once it is full;
// the waits stay in the grad_sync phase, before the optimizer needs the sums.
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

/**
 * Moves the gradient buckets' starts into the backward: each after the last backward step that writes one of
 * its inputs, never before an earlier bucket's start (every rank issues collectives in the same order).
 */
export function startGradientsEarly(backward: readonly Draft[], gradSync: readonly Draft[]): { backward: Draft[]; gradSync: Draft[] } {
  const starts = gradSync.filter((n) => n.op === "comm_start");
  const at = new Map<number, Draft[]>(); // insert after backward index i (-1: at the front)
  let floor = -1;
  for (const s of starts) {
    let last = -1;
    backward.forEach((n, i) => {
      if (writes(n, s.in)) last = i;
    });
    floor = Math.max(floor, last);
    at.set(floor, [...(at.get(floor) ?? []), s]);
  }
  const out: Draft[] = [...(at.get(-1) ?? [])];
  backward.forEach((n, i) => out.push(n, ...(at.get(i) ?? [])));
  return { backward: out, gradSync: gradSync.filter((n) => n.op !== "comm_start") };
}

export const scheduleOverlapPass: Pass = {
  name: "schedule-overlap",
  summary: "split collectives into comm_start/comm_wait; with overlap, start early and wait late",
  run(g: Graph) {
    const all = [...g.forward, ...g.backward, ...g.gradSync];
    if (!all.some((n) => n.op === "collective")) return g;
    const ov = g.spec.parallel.overlap;
    const backward = schedule(g.backward, ov);
    const gradSync = schedule(g.gradSync, ov);
    const grads = ov ? startGradientsEarly(backward, gradSync) : { backward, gradSync };
    return {
      ...g,
      forward: withIds(schedule(g.forward, ov), "forward"),
      backward: withIds(grads.backward, "backward"),
      gradSync: withIds(grads.gradSync, "grad_sync"),
    };
  },
};
