// Estimates of a one-layer op plan: the estimate pass's walk (shape, FLOP and byte rule tables) seeded
// with the op's per-rank input tensors, which a model plan does not have (it starts from tokens).
import { allNodes, type Graph } from "../ir/graph.ts";
import { shapesOf, elems, type Shape, type ShapeCtx } from "../cost/shapes.ts";
import { flopsOf } from "../cost/flops.ts";
import { bytesReceived, type CommSizing } from "../cost/bytes.ts";
import { layerMethod } from "../ir/dims.ts";
import type { Estimates, CommEstimate } from "../plan/schema.ts";

/** The op's input buffers and their shapes on a rank holding C tokens. */
export type InputShapes = (C: number) => ReadonlyMap<string, Shape>;

interface RankWalk {
  fwd: number;
  bwd: number;
  act: number;
  /** most bytes of live buffers at any step, following the free lists */
  peak: number;
  comm: { forward: number; backward: number; grad_sync: number };
}

function walkRank(g: Graph, rank: number, inputs: InputShapes): RankWalk {
  const part = g.partition!;
  const env = new Map<string, Shape>(inputs(part.rankTokens[rank]!));
  const starts = new Map<string, { sizing: CommSizing; inShapes: readonly Shape[] }>();
  const sctx: ShapeCtx = { rank, rankTokens: part.rankTokens, segments: part.segments, mesh: g.mesh, starts };
  const fctx = { rank, W: g.mesh.sp, N: g.spec.train.seq, layout: part.layout };
  const t: RankWalk = { fwd: 0, bwd: 0, act: 0, peak: 0, comm: { forward: 0, backward: 0, grad_sync: 0 } };
  const forwardBufs = new Set<string>(env.keys());
  const liveBytes = new Map<string, number>([...env].map(([b, s]) => [b, elems(s) * 4]));
  let live = [...liveBytes.values()].reduce((a, b) => a + b, 0);
  for (const n of allNodes(g)) {
    const ins = n.in.map((b) => env.get(b) ?? [0]);
    if (n.op === "comm_start") {
      starts.set(n.handle, { sizing: n, inShapes: ins });
      t.comm[n.phase] += bytesReceived(n, { mesh: g.mesh, rankTokens: part.rankTokens }, rank);
    }
    const outs = shapesOf(n, ins, sctx);
    n.out.forEach((b, j) => {
      env.set(b, outs[j] ?? [0]);
      liveBytes.set(b, elems(outs[j] ?? [0]) * 4);
      live += elems(outs[j] ?? [0]) * 4;
    });
    t.peak = Math.max(t.peak, live);
    for (const b of n.free ?? []) {
      live -= liveBytes.get(b) ?? 0;
      liveBytes.delete(b);
    }
    const f = flopsOf(n, ins, outs, fctx);
    if (n.phase === "forward") {
      t.fwd += f;
      for (const b of n.out) forwardBufs.add(b);
    } else if (n.phase === "backward") t.bwd += f;
  }
  const saved = new Set<string>();
  for (const n of g.backward) for (const b of n.in) if (forwardBufs.has(b)) saved.add(b);
  for (const b of saved) t.act += elems(env.get(b) ?? [0]) * 4;
  return t;
}

/** Estimates of the lowered, scheduled one-layer graph (max over SP ranks). */
export function opEstimates(g: Graph, inputs: InputShapes): Estimates {
  const per = Array.from({ length: g.mesh.sp }, (_, r) => walkRank(g, r, inputs));
  const max = (f: (t: RankWalk) => number) => Math.max(0, ...per.map(f));
  const comm: CommEstimate[] = allNodes(g).flatMap((n) =>
    n.op === "comm_start" ? [{ op: n.collective, phase: n.phase, handle: n.handle, bytesPerRank: n.bytesPerRank }] : [],
  );
  const ls = g.spec.model.layers[0]!;
  return {
    rankTokens: [...g.partition!.rankTokens],
    layers: [
      {
        index: 0,
        kind: ls.kind,
        method: layerMethod(g.spec, ls),
        comm,
        flopsForward: max((t) => t.fwd),
        flopsBackward: max((t) => t.bwd),
        activationBytes: max((t) => t.act),
      },
    ],
    totals: {
      flopsForward: max((t) => t.fwd),
      flopsBackward: max((t) => t.bwd),
      activationBytes: max((t) => t.act),
      peakBytes: max((t) => t.peak),
      commBytesForward: max((t) => t.comm.forward),
      commBytesBackward: max((t) => t.comm.backward),
      commBytesGradSync: 0,
      paramCount: 0,
      paramBytes: 0,
    },
  };
}
