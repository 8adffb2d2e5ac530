// The data a rank trains on: the global batch of a step (all DP replicas, from the seed), this rank's
// rows and token positions of it, and the loss scale 1 / (scored targets of the whole global batch).
import type { Plan } from "../../compiler/plan/schema.ts";
import { makeDataSource, type Batch, type DataSource } from "../train/data/index.ts";
import { countScored, sliceBatch } from "../train/data/slice.ts";
import { localPositions, type RankInfo } from "./rank-info.ts";

/** The data source of a plan: one global batch of train.batch sequences per step (all DP replicas). */
export function planDataSource(plan: Plan, seed: number = plan.spec.train.seed, purpose: "train" | "eval" = "train"): DataSource {
  const t = plan.spec.train;
  return makeDataSource(t.data, { vocab: plan.spec.model.vocab, seq: t.seq, batch: t.batch, seed }, t.eval, purpose);
}

/**
 * This rank's share of micro-batch `micro`: rows of its DP replica, tokens at its positions. Replica d holds
 * the rows [d * batch/dp, (d+1) * batch/dp) of the step's batch, cut into `accum` micro-batches in order.
 */
export function localBatch(plan: Plan, info: RankInfo, dpIndex: number, global: Batch, micro = 0): Batch {
  const { accum } = plan.spec.train;
  if (!Number.isInteger(micro) || micro < 0 || micro >= accum) throw new RangeError(`micro-batch ${micro} of ${accum}`);
  const B = plan.spec.train.batch / (plan.mesh.dp * accum);
  const first = (dpIndex * accum + micro) * B;
  return sliceBatch(global, plan.spec.train.seq, { positions: localPositions(info), rows: [first, first + B] });
}

/** 1 / scored targets over the global batch, so the summed loss is the mean over every scored token. */
export function lossScale(global: Batch): number {
  const n = countScored(global.targets);
  if (n === 0) throw new Error("the batch has no scored target: nothing to train on");
  return 1 / n;
}
