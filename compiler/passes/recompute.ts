// Pass recompute (train { recompute on | N }): activation recomputation per layer, in every layer or in the
// first N (as Megatron-LM's "block" method: any N layers save alike at the peak, which is where the forward
// ends and every kept activation is live; the first ones also hold theirs longest). For each such layer, the forward
// buffers its backward reads are made again at the start of that backward by copies of the forward compute
// steps that made them (and of the steps those read, within the layer), under new names (`<buffer>.rc`), and
// the layer's backward reads the copies. Liveness (the next pass) then frees the originals right after the
// forward has used them, so between a layer's forward and its backward only what the copies start from
// stays: the layer's input and the results of its forward collectives (LASP-2's gathered memory states,
// LASP-2H's gathered K/V). Collectives are never repeated: a recomputed layer moves the same bytes.
// The copies are the same ops on the same inputs, so losses and gradients are bit-identical to recompute
// off; the cost is one more forward of each layer, counted in its backward FLOPs and the simulated time.
import { withIds, type Draft, type Graph, type Node } from "../ir/graph.ts";
import { recomputedLayers } from "../../dsl/spec.ts";
import type { Pass } from "./pass.ts";

export const RECOMPUTED = ".rc";

const isComm = (n: Node): boolean => n.op === "comm_start" || n.op === "comm_wait";

/** The backward with the recomputation of each layer under `layers` inserted before that layer's first backward step. */
export function recompute(g: Graph, layers: number): Draft[] {
  const producer = new Map<string, Node>();
  for (const n of g.forward) for (const b of n.out) producer.set(b, n);
  const layerOf = (b: string): number | null => producer.get(b)?.layer ?? null;
  const byLayer = new Map<number, { copies: Draft[]; renamed: Map<string, string> }>();

  const plan = (layer: number): { copies: Draft[]; renamed: Map<string, string> } => {
    let p = byLayer.get(layer);
    if (p !== undefined) return p;
    p = { copies: [], renamed: new Map() };
    byLayer.set(layer, p);
    // the buffers this layer's backward reads that a forward compute step of the layer made
    const wanted = new Set<string>();
    for (const n of g.backward)
      if (n.layer === layer) for (const b of n.in) if (layerOf(b) === layer && !isComm(producer.get(b)!)) wanted.add(b);
    // close over the inputs of their producers within the layer (collective results are kept, not redone)
    const steps = new Set<Node>();
    const visit = (b: string): void => {
      const n = producer.get(b);
      if (n === undefined || n.layer !== layer || isComm(n) || steps.has(n)) return;
      steps.add(n);
      for (const i of n.in) visit(i);
    };
    for (const b of wanted) visit(b);
    for (const n of g.forward) {
      if (!steps.has(n)) continue;
      for (const b of n.out) p.renamed.set(b, b + RECOMPUTED);
    }
    const name = (b: string): string => p!.renamed.get(b) ?? b;
    for (const n of g.forward) {
      if (!steps.has(n)) continue;
      const { id: _id, free: _free, ...rest } = n;
      p.copies.push({ ...rest, in: n.in.map(name), out: n.out.map(name), phase: "backward" } as Draft);
    }
    return p;
  };

  const out: Draft[] = [];
  const started = new Set<number>();
  for (const n of g.backward) {
    const layer = n.layer;
    if (layer === null || layer >= layers) {
      out.push(n);
      continue;
    }
    const p = plan(layer);
    if (!started.has(layer)) {
      started.add(layer);
      out.push(...p.copies);
    }
    out.push(p.renamed.size === 0 ? n : ({ ...n, in: n.in.map((b) => p.renamed.get(b) ?? b) } as Draft));
  }
  return out;
}

export const recomputePass: Pass = {
  name: "recompute",
  summary: "train { recompute on | N }: a layer's forward runs again at the start of its backward instead of keeping its activations (every layer, or the first N)",
  run(g) {
    const layers = recomputedLayers(g.spec);
    if (layers === 0) return g;
    return { ...g, backward: withIds(recompute(g, layers), "backward") };
  },
};
