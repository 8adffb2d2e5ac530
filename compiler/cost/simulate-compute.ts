// Compute time of every plan step on every SP rank: FLOPs (cost/flops.ts) and bytes touched (cost/shapes.ts)
// of the step on that rank, through a roofline per op class (matmul, attention, elementwise) of a profile.
import type { Plan, Step, StepOp } from "../plan/schema.ts";
import { shapesOf, elems, type Shape, type ShapeCtx } from "./shapes.ts";
import { flopsOf } from "./flops.ts";
import type { CommSizing } from "./bytes.ts";
import { dims } from "../ir/dims.ts";
import type { HardwareProfile, SimDtype } from "./hardware/profile.ts";

/** How an op runs on a device: its rate comes from its class. */
export type OpClass = "matmul" | "attention" | "elementwise" | "layout" | "comm";

/** Every plan op's class; a new op does not compile until it has one. */
export const OP_CLASS: { readonly [K in StepOp]: OpClass } = {
  embed: "elementwise",
  embed_bwd: "elementwise",
  norm: "elementwise",
  norm_bwd: "elementwise",
  matmul: "matmul",
  matmul_bwd: "matmul",
  add: "elementwise",
  swiglu: "elementwise",
  swiglu_bwd: "elementwise",
  gelu: "elementwise",
  gelu_bwd: "elementwise",
  heads: "layout",
  unheads: "layout",
  repeat_kv: "elementwise",
  repeat_kv_bwd: "elementwise",
  rope: "elementwise",
  rope_bwd: "elementwise",
  feature: "elementwise",
  feature_bwd: "elementwise",
  tail: "layout",
  tail_add: "elementwise",
  short_conv: "elementwise",
  short_conv_bwd: "elementwise",
  gate_proj: "matmul",
  gate_proj_bwd: "matmul",
  xent: "elementwise", // softmax and log over the logits (the head projection is a matmul step of its own)
  xent_bwd: "elementwise",
  la_state: "attention",
  la_intra: "attention",
  la_prefix: "elementwise",
  la_inter: "attention",
  la_carry: "elementwise",
  la_cross: "attention",
  la_cross_bwd: "attention",
  la_bwd_state: "attention",
  la_bwd_intra: "attention",
  la_suffix: "elementwise",
  la_bwd_inter: "attention",
  sa_forward: "attention",
  sa_backward: "attention",
  sa_merge: "elementwise",
  comm_start: "comm",
  comm_wait: "comm",
};

export const DTYPE_BYTES: Readonly<Record<SimDtype, number>> = { fp32: 4, bf16: 2 };

/** One step's work on one rank. */
export interface StepWork {
  readonly flops: number;
  /** bytes of its inputs and outputs at the plan's float32 */
  readonly bytes: number;
}

/** FLOPs and bytes touched of every step (forward, backward, gradSync order) on SP rank `rank`. */
export function stepWork(plan: Plan, rank: number): StepWork[] {
  const d = dims(plan.spec);
  const rankTokens = plan.estimates.rankTokens;
  const layout = plan.spec.parallel.layout;
  const env = new Map<string, Shape>();
  const C = rankTokens[rank] ?? 0;
  env.set(plan.inputs.tokens, [d.B * C]);
  env.set(plan.inputs.targets, [d.B * C]);
  for (const p of plan.params) env.set(p.name, p.shape);
  const starts = new Map<string, { sizing: CommSizing; inShapes: readonly Shape[] }>();
  const sctx: ShapeCtx = { rank, rankTokens, segments: layout === "zigzag" ? 2 : 1, mesh: plan.mesh, starts };
  const fctx = { rank, W: plan.mesh.sp, N: plan.spec.train.seq, layout };
  return [...plan.forward, ...plan.backward, ...plan.gradSync].map((s: Step) => {
    const ins = s.in.map((b) => env.get(b) ?? [0]);
    if (s.op === "comm_start") starts.set(s.handle, { sizing: s, inShapes: ins });
    const outs = shapesOf(s, ins, sctx);
    s.out.forEach((b, j) => env.set(b, outs[j] ?? [0]));
    const bytes = 4 * [...ins, ...outs].reduce((a, sh) => a + elems(sh), 0);
    return { flops: flopsOf(s, ins, outs, fctx), bytes };
  });
}

/** Seconds one step takes on a whole device (simulate-schedule.ts slows it down where ranks share cores). */
export function stepSeconds(op: StepOp, w: StepWork, hw: HardwareProfile, dtype: SimDtype): number {
  const cls = OP_CLASS[op];
  // the transfer itself is the link's (simulate-comm.ts); local: the handler's own copies, per byte
  if (cls === "comm") return (hw.commStepSecondsPerByte ?? 0) * w.bytes;
  return (hw.opScale?.[op] ?? 1) * rooflineSeconds(op, cls, w, hw, dtype);
}

function rooflineSeconds(op: StepOp, cls: OpClass, w: StepWork, hw: HardwareProfile, dtype: SimDtype): number {
  const bytes = (w.bytes * DTYPE_BYTES[dtype]) / 4;
  const memory = bytes / hw.memoryBandwidth;
  if (cls === "layout") return hw.opOverhead + memory;
  const attention = op.startsWith("la_") ? (hw.linearAttentionEfficiency ?? hw.attentionEfficiency) : hw.attentionEfficiency;
  const peak = hw.peakFlops[dtype] * hw.matmulEfficiency * (cls === "attention" ? attention : 1);
  const rate = cls === "elementwise" ? hw.elementwiseFlops : peak;
  return hw.opOverhead + Math.max(w.flops / rate, memory);
}
