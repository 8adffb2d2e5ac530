// Pass grad-sync: every weight gradient is summed over all sp*dp ranks (group "world") before the optimizer
// step (ALGORITHM.md section 4). Gradients travel in buckets, as PyTorch DDP sends them: walking the
// parameters from the last to the first (the order the backward produces them), each all_reduce carries
// consecutive gradients up to the spec's `parallel.bucket` bytes of float32 (25 MiB by default; a larger
// tensor goes alone). One call per weight paid the collective's fixed cost (call overhead, 2(W-1) hop
// latencies) once per tensor: on a cluster that is a fixed cost per step that no sequence length amortises.
import { GRAD_BUCKET_BYTES } from "../../dsl/spec.ts";
import { withIds, type Draft, type Graph } from "../ir/graph.ts";
import { maxBytesReceived } from "../cost/bytes.ts";
import type { Pass } from "./pass.ts";

type Param = Graph["params"][number];

/** Parameters in reverse order, cut into buckets of at most `cap` bytes (a larger tensor: a bucket of its own). */
export function gradBuckets(params: readonly Param[], cap: number = GRAD_BUCKET_BYTES): Param[][] {
  const buckets: Param[][] = [];
  let cur: Param[] = [];
  let bytes = 0;
  for (const p of [...params].reverse()) {
    const b = 4 * p.shape.reduce((a, d) => a * d, 1);
    if (cur.length > 0 && bytes + b > cap) {
      buckets.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += b;
  }
  if (cur.length > 0) buckets.push(cur);
  return buckets;
}

export function gradSync(g: Graph): Draft[] {
  const rankTokens = g.partition?.rankTokens ?? [];
  return gradBuckets(g.params, g.spec.parallel.bucket).map((bucket): Draft => {
    const sizing = {
      collective: "all_reduce" as const,
      group: "world" as const,
      parts: bucket.map((p) => ({ axis: 0, shape: [...p.shape] })),
    };
    // a bucket within one layer names it; one that spans layers points at the model
    const layers = new Set(bucket.map((p) => p.layer));
    const layer = layers.size === 1 ? bucket[0]!.layer : null;
    return {
      op: "collective",
      ...sizing,
      bytesPerRank: maxBytesReceived(sizing, { mesh: g.mesh, rankTokens }),
      in: bucket.map((p) => g.localGrads[p.name]!),
      out: bucket.map((p) => p.grad),
      layer,
      phase: "grad_sync",
      loc: layer === null ? g.spec.model.loc : (g.spec.model.layers[layer]?.loc ?? g.spec.model.loc),
    };
  });
}

export const gradSyncPass: Pass = {
  name: "grad-sync",
  summary: "all_reduce of the weight gradients over the world group (sp x dp), in 25 MiB buckets",
  run(g) {
    if (g.gradSync.length > 0) return g;
    return { ...g, gradSync: withIds(gradSync(g), "grad_sync") };
  },
};
