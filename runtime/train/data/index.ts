// makeDataSource: the DataSpec of a train spec -> a deterministic batch source (nothing downloaded).
import type { DataSpec, EvalSpec } from "../../../dsl/spec.ts";
import { mqarSource } from "./mqar.ts";
import { randomSource } from "./random.ts";
import { textSource } from "./text.ts";
import { EVAL_SEED_OFFSET, type DataShape, type DataSource } from "./types.ts";

export type { Batch, DataShape, DataSource } from "./types.ts";

/**
 * The source of training batches, or (purpose "eval") of held-out batches: text keeps the corpus's last
 * `holdout` out of training when evaluation is on; random and MQAR draw held-out batches from another seed.
 */
export function makeDataSource(spec: DataSpec, shape: DataShape, evaluation: EvalSpec | null = null, purpose: "train" | "eval" = "train"): DataSource {
  if (purpose === "eval" && evaluation === null) throw new Error("data: held-out batches asked for without train.eval");
  const part = evaluation === null ? null : { part: purpose, holdout: evaluation.holdout };
  if (purpose === "eval" && spec.kind !== "text") shape = { ...shape, seed: shape.seed + EVAL_SEED_OFFSET };
  switch (spec.kind) {
    case "mqar":
      return mqarSource(spec.pairs, shape);
    case "random":
      return randomSource(shape);
    case "text":
      return textSource(spec.path, shape, part);
    default:
      return spec satisfies never;
  }
}
