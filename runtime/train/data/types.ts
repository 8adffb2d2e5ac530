// The batch-source contract: the batch for step s depends only on (seed, s), so resume is exact and
// every rank can cut its own tokens out of the same global batch.

export interface Batch {
  /** [batch * seq] row-major token ids */
  readonly tokens: Int32Array;
  /** [batch * seq] target id per position; -1 = not scored */
  readonly targets: Int32Array;
}

export interface DataSource {
  /** The global batch of training step `step` (0-based; any order, any number of times). */
  next(step: number): Batch;
  /** One line for logs and reports. */
  describe(): string;
}

export interface DataShape {
  readonly vocab: number;
  readonly seq: number;
  readonly batch: number;
  readonly seed: number;
}

/** Stream labels: distinct generators for distinct uses of one seed. */
export const STREAM = { mqar: 0x6d716172, random: 0x726e6474, text: 0x74657874, textEval: 0x74657665 } as const;

/** The seed of the held-out batches of data without a held-out part (random, MQAR): a stream of their own. */
export const EVAL_SEED_OFFSET = 0x6576616c;

export function checkShape(kind: string, s: DataShape): void {
  for (const k of ["vocab", "seq", "batch"] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`${kind} data: ${k} must be a positive integer, got ${s[k]}`);
  }
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) throw new Error(`${kind} data: seed must be a non-negative integer, got ${s.seed}`);
}

export function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`data: step must be a non-negative integer, got ${step}`);
}
