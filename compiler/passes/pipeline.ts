// The compiler pipeline, in order. Each pass is pure; compile() runs the verifier after each one.
// build-backward runs BEFORE insert-comm on purpose: LASP-2's backward is not the autodiff of its forward
// collectives (the transpose of an AllGather is a ReduceScatter; LASP-2 gathers the gradient states
// instead), so attention is differentiated as one logical op and insert-comm lowers both directions.
import type { Pass } from "./pass.ts";
import { checkConfigPass } from "./check-config.ts";
import { expandLayersPass } from "./expand-layers.ts";
import { partitionPass } from "./partition.ts";
import { buildBackwardPass } from "./build-backward.ts";
import { insertCommPass } from "./insert-comm.ts";
import { gradSyncPass } from "./grad-sync.ts";
import { scheduleOverlapPass } from "./schedule-overlap.ts";
import { recomputePass } from "./recompute.ts";
import { livenessPass } from "./liveness.ts";
import { estimatePass } from "./estimate.ts";

export const PIPELINE: readonly Pass[] = [
  checkConfigPass, // LASP3xxx errors; compile stops here if any
  expandLayersPass, // spec -> forward graph with logical attention / conv ops, params
  partitionPass, // sequence -> ranks (contiguous | zigzag), tokens per rank
  buildBackwardPass, // reverse mode on the logical graph (attention differentiated as a whole)
  insertCommPass, // logical attention / conv -> kernels + collectives per SP method
  gradSyncPass, // all_reduce of every weight gradient over sp x dp
  scheduleOverlapPass, // collectives -> comm_start / comm_wait, overlapped when asked
  recomputePass, // train { recompute on }: each layer's forward again at the start of its backward
  livenessPass, // free lists
  estimatePass, // FLOPs, activation memory, bytes per rank
];

export const PASS_NAMES: readonly string[] = PIPELINE.map((p) => p.name);
