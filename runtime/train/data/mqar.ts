// MQAR (multi-query associative recall) as the Zoology paper generates it: context k1 v1 ... kn vn,
// then each key queried once at a power-law gap after the context; only query positions are scored.
import { Rng } from "../rng.ts";
import { type DataShape, type DataSource, STREAM, checkShape, checkStep } from "./types.ts";

/** Zoology's power_a: gap i (1-based) is drawn with probability proportional to i^(a-1). */
export const MQAR_POWER_A = 0.01;

export interface MqarLayout {
  /** keys are drawn from [1, keyVocab) (0 is Zoology's "empty" marker), values from [keyVocab, vocab) */
  readonly keyVocab: number;
  /** first position after the context (2 * pairs) */
  readonly context: number;
  /** number of even slots after the context where a query may sit */
  readonly space: number;
}

export function mqarLayout(pairs: number, shape: DataShape): MqarLayout {
  checkShape("mqar", shape);
  const { vocab, seq } = shape;
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`mqar data: pairs must be a positive integer, got ${pairs}`);
  const keyVocab = Math.floor(vocab / 2);
  if (pairs > keyVocab - 1 || pairs > vocab - keyVocab) {
    throw new Error(`mqar data: ${pairs} pairs need at least ${2 * pairs + 2} vocabulary entries (distinct keys and values), vocab is ${vocab}`);
  }
  const context = 2 * pairs;
  if (seq < 4 * pairs) throw new Error(`mqar data: ${pairs} pairs need seq >= ${4 * pairs} (context 2n + n query slots of 2), seq is ${seq}`);
  return { keyVocab, context, space: Math.floor((seq - context) / 2) };
}

/** `k` distinct gaps in [0, space) drawn one by one from the renormalised power law (numpy's choice). */
function drawGaps(rng: Rng, space: number, k: number): number[] {
  const w = Array.from({ length: space }, (_, i) => MQAR_POWER_A * (i + 1) ** (MQAR_POWER_A - 1));
  let total = w.reduce((a, b) => a + b, 0);
  const gaps: number[] = [];
  for (let n = 0; n < k; n++) {
    let u = rng.float() * total;
    let pick = -1;
    for (let i = 0; i < space; i++) {
      if (w[i] === 0) continue;
      pick = i;
      u -= w[i]!;
      if (u < 0) break;
    }
    gaps.push(pick);
    total -= w[pick]!;
    w[pick] = 0;
  }
  return gaps;
}

export function mqarSource(pairs: number, shape: DataShape): DataSource {
  const { keyVocab, context, space } = mqarLayout(pairs, shape);
  const { vocab, seq, batch, seed } = shape;
  return {
    next(step) {
      checkStep(step);
      const tokens = new Int32Array(batch * seq);
      const targets = new Int32Array(batch * seq).fill(-1);
      for (let b = 0; b < batch; b++) {
        const rng = new Rng(seed, STREAM.mqar, step, b);
        const row = b * seq;
        const keys = rng.sample(keyVocab - 1, pairs).map((k) => k + 1);
        const values = rng.sample(vocab - keyVocab, pairs).map((v) => v + keyVocab);
        const gaps = drawGaps(rng, space, pairs);
        const isQuery = new Uint8Array(seq);
        for (let i = 0; i < pairs; i++) {
          tokens[row + 2 * i] = keys[i]!;
          tokens[row + 2 * i + 1] = values[i]!;
          const q = context + 2 * gaps[i]!;
          tokens[row + q] = keys[i]!;
          targets[row + q] = values[i]!;
          isQuery[q] = 1;
        }
        for (let p = context; p < seq; p++) if (isQuery[p] === 0) tokens[row + p] = rng.int(vocab);
      }
      return { tokens, targets };
    },
    describe: () =>
      `mqar: ${pairs} key-value pairs, keys in [1, ${keyVocab}), values in [${keyVocab}, ${vocab}), ` +
      `${pairs} queries in ${space} slots (power law a=${MQAR_POWER_A}), seq ${seq}, batch ${batch}, seed ${seed}`,
  };
}
