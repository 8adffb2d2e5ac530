// Pass partition: fixes how the sequence is cut over the SP ranks (compiler/plan/partition.ts) and
// records each rank's token count, which sizes every per-token collective and estimate.
import { chunkCount, rankLength } from "../plan/partition.ts";
import type { Pass } from "./pass.ts";

export const partitionPass: Pass = {
  name: "partition",
  summary: "cut the sequence over the SP ranks (contiguous | zigzag) and record each rank's token count",
  run(g) {
    const { sp, layout } = g.spec.parallel;
    const n = g.spec.train.seq;
    const rankTokens = Array.from({ length: sp }, (_, r) => rankLength(n, sp, layout, r));
    return {
      ...g,
      partition: { layout, chunks: chunkCount(sp, layout), segments: layout === "zigzag" ? 2 : 1, rankTokens },
    };
  },
};
