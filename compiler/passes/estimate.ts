// Pass estimate: per layer FLOPs (forward, backward) and activation memory (forward buffers kept for the
// backward), max over SP ranks, the peak of live buffer bytes along the free lists (liveness must have
// run), and the bytes each rank receives per collective (cost/bytes.ts).
// Walks the program once per SP rank with the shape and FLOP rule tables.
import { dims } from "../ir/dims.ts";
import { TOKENS, TARGETS, allNodes, type Graph, type Node } from "../ir/graph.ts";
import { shapesOf, elems, type Shape, type ShapeCtx } from "../cost/shapes.ts";
import { flopsOf } from "../cost/flops.ts";
import { bytesReceived, maxBytesReceived, type CommSizing } from "../cost/bytes.ts";
import { layerMethod } from "../ir/dims.ts";
import type { Estimates, LayerEstimate, CommEstimate } from "../plan/schema.ts";
import type { Pass } from "./pass.ts";

interface RankTotals {
  fwd: number[];
  bwd: number[];
  act: number[];
  other: { fwd: number; bwd: number; act: number };
  peak: number;
  comm: { forward: number; backward: number; grad_sync: number };
}

function sizingOf(n: Node): CommSizing | null {
  return n.op === "comm_start" || n.op === "collective" ? n : null;
}

/** What depends only on buffer shapes: per node input/output shapes, saved activations, live-bytes peak. */
interface ShapeWalk {
  ins: Shape[][];
  outs: Shape[][];
  act: number[];
  otherAct: number;
  peak: number;
}

/** The shape of every buffer on SP rank `rank` (params, inputs, every step's outputs). */
export function bufferShapes(g: Graph, rank: number): Map<string, Shape> {
  const env = new Map<string, Shape>();
  shapeWalk(g, rank, env);
  return env;
}

/**
 * Ranks whose shapes all agree share a walk: shapes depend on this rank's token count, on the tokens of
 * the ranks data comes from (send_recv origins, every distance around the ring), and on whether the rank
 * has a previous / next neighbour.
 */
function shapeSignature(g: Graph, rank: number): string {
  const W = g.mesh.sp;
  const t = g.partition!.rankTokens;
  const around = Array.from({ length: W }, (_, h) => t[(rank - h + W) % W] ?? 0);
  return `${rank === 0}|${rank === W - 1}|${around.join(",")}`;
}

function shapeWalk(g: Graph, rank: number, env = new Map<string, Shape>()): ShapeWalk {
  const part = g.partition!;
  const B = dims(g.spec).B; // sequences per DP replica
  const C = part.rankTokens[rank]!;
  env.set(TOKENS, [B * C]);
  env.set(TARGETS, [B * C]);
  for (const p of g.params) env.set(p.name, p.shape);
  const starts = new Map<string, { sizing: CommSizing; inShapes: readonly Shape[] }>();
  const sctx: ShapeCtx = { rank, rankTokens: part.rankTokens, segments: part.segments, mesh: g.mesh, starts };
  const w: ShapeWalk = { ins: [], outs: [], act: new Array<number>(g.spec.model.layers.length).fill(0), otherAct: 0, peak: 0 };
  const producer = new Map<string, number | null>();
  const forwardBufs = new Set<string>();
  const weights = new Set(g.params.map((p) => p.name));
  const liveBytes = new Map<string, number>([[TOKENS, B * C * 4], [TARGETS, B * C * 4]]);
  let live = 2 * B * C * 4;
  for (const n of allNodes(g)) {
    const ins = n.in.map((b) => env.get(b) ?? [0]);
    if (n.op === "comm_start") starts.set(n.handle, { sizing: n, inShapes: ins });
    const outs = shapesOf(n, ins, sctx);
    w.ins.push(ins);
    w.outs.push(outs);
    n.out.forEach((b, j) => {
      env.set(b, outs[j] ?? [0]);
      const bytes = elems(outs[j] ?? [0]) * 4;
      liveBytes.set(b, bytes);
      live += bytes;
      if (n.phase === "forward") {
        producer.set(b, n.layer);
        forwardBufs.add(b);
      }
    });
    w.peak = Math.max(w.peak, live);
    for (const b of n.free ?? []) {
      if (weights.has(b)) continue;
      live -= liveBytes.get(b) ?? 0;
      liveBytes.delete(b);
    }
  }
  // activation memory: forward buffers a backward step still reads
  const saved = new Set<string>();
  for (const n of g.backward) for (const b of n.in) if (forwardBufs.has(b)) saved.add(b);
  for (const b of saved) {
    const bytes = elems(env.get(b) ?? [0]) * 4;
    const l = producer.get(b) ?? null;
    if (l === null) w.otherAct += bytes;
    else w.act[l]! += bytes;
  }
  return w;
}

function walkRank(g: Graph, rank: number, shapes: ShapeWalk): RankTotals {
  const part = g.partition!;
  const L = g.spec.model.layers.length;
  const fctx = { rank, W: g.mesh.sp, N: g.spec.train.seq, layout: part.layout };
  const t: RankTotals = {
    fwd: new Array<number>(L).fill(0),
    bwd: new Array<number>(L).fill(0),
    act: shapes.act,
    other: { fwd: 0, bwd: 0, act: shapes.otherAct },
    peak: shapes.peak,
    comm: { forward: 0, backward: 0, grad_sync: 0 },
  };
  allNodes(g).forEach((n, i) => {
    const f = flopsOf(n, shapes.ins[i]!, shapes.outs[i]!, fctx);
    const sz = sizingOf(n);
    if (sz !== null) t.comm[n.phase] += bytesReceived(sz, { mesh: g.mesh, rankTokens: part.rankTokens }, sz.group === "sp" ? rank : 0);
    if (n.phase === "forward") {
      if (n.layer === null) t.other.fwd += f;
      else t.fwd[n.layer]! += f;
    } else if (n.phase === "backward") {
      if (n.layer === null) t.other.bwd += f;
      else t.bwd[n.layer]! += f;
    }
  });
  return t;
}

export function estimate(g: Graph): Estimates {
  const W = g.mesh.sp;
  const walks = new Map<string, ShapeWalk>();
  const per = Array.from({ length: W }, (_, r) => {
    const key = shapeSignature(g, r);
    let w = walks.get(key);
    if (w === undefined) walks.set(key, (w = shapeWalk(g, r)));
    return walkRank(g, r, w);
  });
  const max = (f: (t: RankTotals) => number) => Math.max(0, ...per.map(f));
  const ctx = { mesh: g.mesh, rankTokens: g.partition!.rankTokens };
  const comm = (layer: number): CommEstimate[] =>
    allNodes(g)
      .filter((n) => n.layer === layer && n.phase !== "grad_sync")
      .flatMap((n) => {
        if (n.op === "comm_start") return [{ op: n.collective, phase: n.phase, handle: n.handle, bytesPerRank: n.bytesPerRank }];
        if (n.op === "collective") return [{ op: n.collective, phase: n.phase, handle: `h.${n.out[0] ?? n.in[0]}`, bytesPerRank: maxBytesReceived(n, ctx) }];
        return [];
      });
  const layers: LayerEstimate[] = g.spec.model.layers.map((ls, i) => ({
    index: ls.index,
    kind: ls.kind,
    method: layerMethod(g.spec, ls),
    comm: comm(i),
    flopsForward: max((t) => t.fwd[i]!),
    flopsBackward: max((t) => t.bwd[i]!),
    activationBytes: max((t) => t.act[i]!),
  }));
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const paramCount = g.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  return {
    rankTokens: [...g.partition!.rankTokens],
    layers,
    totals: {
      flopsForward: max((t) => sum(t.fwd) + t.other.fwd),
      flopsBackward: max((t) => sum(t.bwd) + t.other.bwd),
      activationBytes: max((t) => sum(t.act) + t.other.act),
      peakBytes: max((t) => t.peak),
      commBytesForward: max((t) => t.comm.forward),
      commBytesBackward: max((t) => t.comm.backward),
      commBytesGradSync: max((t) => t.comm.grad_sync),
      paramCount,
      paramBytes: paramCount * 4,
    },
  };
}

export const estimatePass: Pass = {
  name: "estimate",
  summary: "FLOPs and activation memory per layer (max over ranks), bytes per rank per collective",
  run(g) {
    return g.partition === null ? g : { ...g, estimates: estimate(g) };
  },
};
