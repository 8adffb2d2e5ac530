// A byte-level text corpus: each row a window of seq bytes at an offset drawn from (seed, step, row),
// target = the next byte.
import { createHash } from "node:crypto";
import { Rng } from "../rng.ts";
import { loadCorpus } from "./corpus.ts";
import { type DataShape, type DataSource, STREAM, checkShape, checkStep } from "./types.ts";

/**
 * Which part of the corpus a source reads (train { eval ... holdout F }): training the first 1 - F of the
 * bytes, evaluation the rest; a window and its targets stay inside its part.
 */
export type TextPart = { readonly part: "train" | "eval"; readonly holdout: number } | null;

/** The byte range [from, to) of a part of a corpus of `length` bytes. */
export function textPartRange(length: number, part: TextPart): [number, number] {
  if (part === null) return [0, length];
  const cut = Math.floor(length * (1 - part.holdout));
  return part.part === "train" ? [0, cut] : [cut, length];
}

/** From bytes already loaded (tests, or a caller that read the file itself). */
export function textSourceFromBytes(bytes: Uint8Array, label: string, shape: DataShape, part: TextPart = null): DataSource {
  checkShape("text", shape);
  const { vocab, seq, batch, seed } = shape;
  if (vocab < 256) throw new Error(`text data: byte-level tokens need vocab >= 256, the model's vocab is ${vocab}`);
  if (bytes.length < seq + 1) throw new Error(`text data: corpus '${label}' has ${bytes.length} bytes, seq ${seq} needs at least ${seq + 1}`);
  const [from, to] = textPartRange(bytes.length, part);
  if (to - from < seq + 1)
    throw new Error(
      `text data: the ${part!.part === "train" ? "training" : "held-out"} part of corpus '${label}' (train.eval holdout ${part!.holdout}) ` +
        `has ${to - from} bytes, seq ${seq} needs at least ${seq + 1}: change holdout, or use a shorter seq or a larger corpus`,
    );
  const windows = to - from - seq; // offsets from .. to-seq-1 leave room for the last target
  const stream = part?.part === "eval" ? STREAM.textEval : STREAM.text;
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 12);
  return {
    next(step) {
      checkStep(step);
      const tokens = new Int32Array(batch * seq);
      const targets = new Int32Array(batch * seq);
      for (let b = 0; b < batch; b++) {
        const off = from + new Rng(seed, stream, step, b).int(windows);
        for (let i = 0; i < seq; i++) {
          tokens[b * seq + i] = bytes[off + i]!;
          targets[b * seq + i] = bytes[off + i + 1]!;
        }
      }
      return { tokens, targets };
    },
    describe: () =>
      `text: ${label} (${bytes.length} bytes, sha256 ${digest}...${part === null ? "" : `; ${part.part === "train" ? "training on" : "held out:"} bytes ${from}..${to}`}), ` +
      `byte tokens, seq ${seq}, batch ${batch}, seed ${seed}`,
  };
}

export function textSource(path: string, shape: DataShape, part: TextPart = null): DataSource {
  if (shape.vocab < 256) throw new Error(`text data: byte-level tokens need vocab >= 256, the model's vocab is ${shape.vocab}`);
  return textSourceFromBytes(loadCorpus(path), path, shape, part);
}
