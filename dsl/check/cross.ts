// Checks across sections, run on resolved model/parallel/train: does the parallel method fit the
// layers, is the sequence long enough for the SP group, does the data fit the model.
import type { Span } from "../diagnostic.ts";
import type { ModelSpec, ParallelSpec, TrainSpec } from "../spec.ts";
import type { Ctx } from "./context.ts";
import type { ParallelResult } from "./parallel.ts";
import type { TrainResult } from "./train.ts";

interface Where {
  readonly parallel: ParallelResult["spans"];
  readonly train: TrainResult["spans"];
  readonly parallelSpan: Span;
  readonly trainSpan: Span;
}

/** Each check runs when the sections it reads resolved, so one bad section does not hide the others' errors. */
export function checkCross(ctx: Ctx, m: ModelSpec | undefined, p: ParallelSpec | undefined, t: TrainSpec | undefined, w: Where): void {
  const spSpan = w.parallel.sp ?? w.parallelSpan;
  const seqSpan = w.train.seq ?? w.trainSpan;
  const linear = m?.layers.filter((l) => l.kind === "linear") ?? [];

  if (m !== undefined && p !== undefined) {
    const hasSoftmax = m.layers.some((l) => l.kind === "softmax");
    if (hasSoftmax && p.softmax === "ulysses" && (m.heads % p.sp !== 0 || m.kvHeads % p.sp !== 0)) {
      const which = m.heads % p.sp !== 0 ? `heads ${m.heads}` : `kv_heads ${m.kvHeads}`;
      ctx.error("ulyssesHeads", `ulysses splits attention heads across the SP group: ${which} is not divisible by sp ${p.sp}`, w.parallel.softmax ?? spSpan, {
        notes: [{ message: `sp ${p.sp}`, span: spSpan }],
      });
    }
    const bidi = linear.find((l) => l.linear?.causal === false);
    if (p.linear === "lasp1" && bidi !== undefined) {
      ctx.error("lasp1Bidirectional", "lasp1 passes a causal prefix state along a chain of ranks and cannot run bidirectional linear layers: use lasp2 or ring", w.parallel.linear ?? w.parallelSpan, {
        suggestion: "lasp2",
        notes: [{ message: `layer ${bidi.index} is bidirectional` }],
      });
    }
  }
  if (p !== undefined && t !== undefined) {
    const chunks = p.layout === "zigzag" ? 2 * p.sp : p.sp;
    if (t.seq < chunks) {
      const why = p.layout === "zigzag" ? `zigzag cuts it into 2*sp = ${chunks} chunks` : `each of the ${p.sp} SP ranks needs at least one token`;
      ctx.error("seqTooShort", `seq ${t.seq} is too short for sp ${p.sp}: ${why}`, seqSpan, {
        notes: [{ message: "the SP group size is set here", span: spSpan }],
      });
    } else if (p.sp > 1 && m !== undefined) {
      const chunk = Math.floor(t.seq / chunks);
      const conv = Math.max(0, ...linear.map((l) => l.linear?.conv ?? 0));
      if (conv - 1 > chunk) {
        ctx.error("convHalo", `a conv of kernel ${conv} needs the previous ${conv - 1} tokens, but a rank holds only ${chunk}: use a longer seq or a smaller sp`, seqSpan);
      }
    }
    if (t.batch % (p.dp * t.accum) !== 0) {
      const over = t.accum > 1 ? `dp ${p.dp} data-parallel replicas x accum ${t.accum} micro-batches` : `dp ${p.dp} data-parallel replicas`;
      ctx.error("batchDp", `batch ${t.batch} cannot be split evenly over ${over}: use a multiple of ${p.dp * t.accum}`, w.train.batch ?? w.train.accum ?? w.parallel.dp ?? w.trainSpan);
    }
  }
  if (m !== undefined && t !== undefined && typeof t.recompute === "number" && t.recompute > m.layers.length) {
    ctx.error("recomputeLayers", `recompute ${t.recompute}: the model has ${m.layers.length} layers (recompute N takes the first N; 'on' takes all)`, w.train.recompute ?? w.trainSpan, {
      suggestion: "on",
    });
  }
  if (t !== undefined) {
    if (t.data.kind === "mqar") {
      const pairsSpan = w.train.pairs ?? w.train.data ?? w.trainSpan;
      if (4 * t.data.pairs > t.seq) {
        ctx.error("mqarSeq", `MQAR with ${t.data.pairs} pairs needs seq of at least ${4 * t.data.pairs} (2 tokens per pair in the context, then the queries)`, pairsSpan);
      }
      if (m !== undefined && 2 * t.data.pairs > m.vocab) {
        ctx.error("mqarVocab", `MQAR with ${t.data.pairs} pairs needs vocab of at least ${2 * t.data.pairs} (distinct keys in the lower half, values in the upper half)`, pairsSpan);
      }
    }
    if (m !== undefined && t.data.kind === "text" && m.vocab < 256) {
      ctx.error("textVocab", `text data uses byte tokens: vocab must be at least 256, got ${m.vocab}`, w.train.data ?? w.trainSpan);
    }
    if (t.steps > 0 && t.optimizer.warmup > t.steps) {
      ctx.warn("warmup", `warmup ${t.optimizer.warmup} is longer than the ${t.steps} training steps`, w.train.warmup ?? w.trainSpan);
    }
  }
}
