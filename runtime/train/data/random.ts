// Uniform random tokens, target = next token: a throughput workload with nothing to learn.
import { Rng } from "../rng.ts";
import { type DataShape, type DataSource, STREAM, checkShape, checkStep } from "./types.ts";

export function randomSource(shape: DataShape): DataSource {
  checkShape("random", shape);
  const { vocab, seq, batch, seed } = shape;
  return {
    next(step) {
      checkStep(step);
      const tokens = new Int32Array(batch * seq);
      const targets = new Int32Array(batch * seq);
      for (let b = 0; b < batch; b++) {
        const rng = new Rng(seed, STREAM.random, step, b);
        let cur = rng.int(vocab);
        for (let i = 0; i < seq; i++) {
          const nxt = rng.int(vocab);
          tokens[b * seq + i] = cur;
          targets[b * seq + i] = nxt;
          cur = nxt;
        }
      }
      return { tokens, targets };
    },
    describe: () => `random tokens: vocab ${vocab}, seq ${seq}, batch ${batch}, seed ${seed}`,
  };
}
