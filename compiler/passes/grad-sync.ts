// Pass grad-sync: every weight gradient is summed over all sp*dp ranks (group "world") before the optimizer
// step (ALGORITHM.md section 4): one all_reduce per parameter, in parameter order.
import { withIds, type Draft, type Graph } from "../ir/graph.ts";
import { maxBytesReceived } from "../cost/bytes.ts";
import type { Pass } from "./pass.ts";

export function gradSync(g: Graph): Draft[] {
  const rankTokens = g.partition?.rankTokens ?? [];
  return g.params.map((p): Draft => {
    const sizing = {
      collective: "all_reduce" as const,
      group: "world" as const,
      parts: [{ axis: 0, shape: [...p.shape] }],
    };
    const local = g.localGrads[p.name]!;
    return {
      op: "collective",
      ...sizing,
      bytesPerRank: maxBytesReceived(sizing, { mesh: g.mesh, rankTokens }),
      in: [local],
      out: [p.grad],
      layer: p.layer,
      phase: "grad_sync",
      loc: p.layer === null ? g.spec.model.loc : (g.spec.model.layers[p.layer]?.loc ?? g.spec.model.loc),
    };
  });
}

export const gradSyncPass: Pass = {
  name: "grad-sync",
  summary: "all_reduce of every weight gradient over the world group (sp x dp)",
  run(g) {
    if (g.gradSync.length > 0) return g;
    return { ...g, gradSync: withIds(gradSync(g), "grad_sync") };
  },
};
