// A byte-level text corpus: each row a window of seq bytes at an offset drawn from (seed, step, row),
// target = the next byte.
import { createHash } from "node:crypto";
import { Rng } from "../rng.ts";
import { loadCorpus } from "./corpus.ts";
import { type DataShape, type DataSource, STREAM, checkShape, checkStep } from "./types.ts";

/** From bytes already loaded (tests, or a caller that read the file itself). */
export function textSourceFromBytes(bytes: Uint8Array, label: string, shape: DataShape): DataSource {
  checkShape("text", shape);
  const { vocab, seq, batch, seed } = shape;
  if (vocab < 256) throw new Error(`text data: byte-level tokens need vocab >= 256, the model's vocab is ${vocab}`);
  if (bytes.length < seq + 1) throw new Error(`text data: corpus '${label}' has ${bytes.length} bytes, seq ${seq} needs at least ${seq + 1}`);
  const windows = bytes.length - seq; // offsets 0 .. len-seq-1 leave room for the last target
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 12);
  return {
    next(step) {
      checkStep(step);
      const tokens = new Int32Array(batch * seq);
      const targets = new Int32Array(batch * seq);
      for (let b = 0; b < batch; b++) {
        const off = new Rng(seed, STREAM.text, step, b).int(windows);
        for (let i = 0; i < seq; i++) {
          tokens[b * seq + i] = bytes[off + i]!;
          targets[b * seq + i] = bytes[off + i + 1]!;
        }
      }
      return { tokens, targets };
    },
    describe: () => `text: ${label} (${bytes.length} bytes, sha256 ${digest}...), byte tokens, seq ${seq}, batch ${batch}, seed ${seed}`,
  };
}

export function textSource(path: string, shape: DataShape): DataSource {
  if (shape.vocab < 256) throw new Error(`text data: byte-level tokens need vocab >= 256, the model's vocab is ${shape.vocab}`);
  return textSourceFromBytes(loadCorpus(path), path, shape);
}
