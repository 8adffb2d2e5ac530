// `lasp explain`: what a plan moves and computes, per layer and in total, as JSON or a text table.
// Pure: reads the plan's estimates (compiler/passes/estimate.ts), formats them; no I/O.
import type { Plan, CommEstimate } from "./plan/schema.ts";
import { recomputedLayers } from "../dsl/spec.ts";

export interface ExplainLayer {
  index: number;
  kind: string;
  method: string;
  /** every collective of the layer: what one rank receives for it in one training step (max over ranks) */
  comm: { op: string; phase: string; bytesPerRank: number }[];
  commBytesForward: number;
  commBytesBackward: number;
  flopsForward: number;
  flopsBackward: number;
  activationBytes: number;
}

export interface ExplainJson {
  mesh: { sp: number; dp: number; world: number };
  seq: number;
  batch: number;
  /** micro-batches per optimizer step: layers, totals and activations describe one micro-batch */
  accum: number;
  /** layers whose forward is recomputed in their backward (train.recompute: the first this many); their backward FLOPs include it */
  recompute: number;
  rankTokens: number[];
  layers: ExplainLayer[];
  totals: Plan["estimates"]["totals"] & { commOps: number; gradBuckets: number };
}

const sum = (c: readonly CommEstimate[], phase: string) => c.filter((x) => x.phase === phase).reduce((s, x) => s + x.bytesPerRank, 0);

export function explainJson(plan: Plan): ExplainJson {
  const e = plan.estimates;
  const starts = [...plan.forward, ...plan.backward, ...plan.gradSync].filter((s) => s.op === "comm_start");
  const commOps = starts.length;
  // the gradient all-reduces (parallel.bucket): their starts may sit in the backward under overlap
  const gradBuckets = starts.filter((s) => s.collective === "all_reduce").length;
  return {
    mesh: plan.mesh,
    seq: plan.spec.train.seq,
    batch: plan.spec.train.batch,
    accum: plan.spec.train.accum,
    recompute: recomputedLayers(plan.spec),
    rankTokens: e.rankTokens,
    layers: e.layers.map((l) => ({
      index: l.index,
      kind: l.kind,
      method: l.method,
      comm: l.comm.map((c) => ({ op: c.op, phase: c.phase, bytesPerRank: c.bytesPerRank })),
      commBytesForward: sum(l.comm, "forward"),
      commBytesBackward: sum(l.comm, "backward"),
      flopsForward: l.flopsForward,
      flopsBackward: l.flopsBackward,
      activationBytes: l.activationBytes,
    })),
    totals: { ...e.totals, commOps, gradBuckets },
  };
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = b;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** 3.2e9 -> "3.20 G". */
export function formatFlops(f: number): string {
  const units = ["", "K", "M", "G", "T", "P"];
  let v = f;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}`.trimEnd();
}

/** "all_gather 6.00 KiB" or, for repeated ops (ring hops), "send_recv x3 18.0 KiB". */
function commText(c: readonly { op: string; phase: string; bytesPerRank: number }[], phase: string): string {
  const by = new Map<string, { n: number; bytes: number }>();
  for (const x of c.filter((y) => y.phase === phase)) {
    const cur = by.get(x.op) ?? { n: 0, bytes: 0 };
    by.set(x.op, { n: cur.n + 1, bytes: cur.bytes + x.bytesPerRank });
  }
  if (by.size === 0) return "-";
  return [...by.entries()].map(([op, v]) => `${op}${v.n > 1 ? ` x${v.n}` : ""} ${formatBytes(v.bytes)}`).join(", ");
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((c, j) => (j < 5 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ").trimEnd()).join("\n");
}

export function explainText(plan: Plan): string {
  const j = explainJson(plan);
  const head = ["layer", "kind", "method", "comm forward (per rank)", "comm backward (per rank)", "FLOP fwd", "FLOP bwd", "activations"];
  const rows = [head];
  for (const l of j.layers) {
    rows.push([
      String(l.index), l.kind, l.method, commText(l.comm, "forward"), commText(l.comm, "backward"),
      formatFlops(l.flopsForward), formatFlops(l.flopsBackward), formatBytes(l.activationBytes),
    ]);
  }
  const t = j.totals;
  const lines = [
    `plan: ${plan.spec.model.name}, ${j.layers.length} layers, sp=${j.mesh.sp} dp=${j.mesh.dp}, seq=${j.seq}, batch=${j.batch}, ` +
      `tokens per rank ${Math.min(...j.rankTokens)}..${Math.max(...j.rankTokens)}`,
    ...(j.accum > 1
      ? [
          `accum ${j.accum}: each optimizer step runs ${j.accum} micro-batches of ${j.batch / (j.mesh.dp * j.accum)} sequence(s) per replica; ` +
            "the table is per micro-batch, the gradient all-reduce runs once per step",
        ]
      : []),
    ...(j.recompute > 0
      ? [
          `recompute ${j.recompute === j.layers.length ? "on" : `${j.recompute} of ${j.layers.length} layers (${j.recompute === 1 ? "layer 0" : `layers 0-${j.recompute - 1}`})`}: ` +
            "the layer's forward compute runs again in its backward (in FLOP bwd); activations are what stays between them",
        ]
      : []),
    ...(plan.spec.train.eval !== null
      ? [
          `eval every ${plan.spec.train.eval.every} steps: ${plan.spec.train.eval.batches} held-out batch(es), the forward alone ` +
            `(${plan.spec.train.eval.batches * j.accum} forward pass(es) of the table's FLOP fwd, no collective but the forward's and one all-reduce of 3 numbers)`,
        ]
      : []),
    "",
    table(rows),
    "",
    `totals (max over ranks): FLOP fwd ${formatFlops(t.flopsForward)}, bwd ${formatFlops(t.flopsBackward)}; ` +
      `activations kept for backward ${formatBytes(t.activationBytes)}` +
      (t.peakBytes !== undefined ? `, peak live ${formatBytes(t.peakBytes)}; ` : "; ") +
      `params ${t.paramCount} (${formatBytes(t.paramBytes)})`,
    `received per rank per ${j.accum > 1 ? "micro-batch" : "step"}: forward ${formatBytes(t.commBytesForward)}, backward ${formatBytes(t.commBytesBackward)}, ` +
      `gradient all-reduce ${formatBytes(t.commBytesGradSync)}${j.accum > 1 ? " (once per step)" : ""}` +
      (t.gradBuckets > 0 ? ` in ${t.gradBuckets} bucket${t.gradBuckets === 1 ? "" : "s"} of <= ${formatBytes(plan.spec.parallel.bucket)}` : "") +
      `; ${t.commOps} collectives`,
  ];
  return lines.join("\n") + "\n";
}
