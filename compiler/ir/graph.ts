// The compiler's IR: an immutable graph of nodes in program order. A node is a plan step (the lowered
// form) or one of the few logical ops that passes lower later (attention and conv before insert-comm,
// collective before schedule-overlap). Node types come from the plan schema; only the logical ones are here.
import type { Spec, LinearMethod, SoftmaxMethod, Layout, SourceLoc } from "../../dsl/spec.ts";
import type { Diagnostic } from "../../dsl/diagnostic.ts";
import type { Step, Param, Mesh, Estimates, Phase, StepOf } from "../plan/schema.ts";

interface Common {
  readonly id: string;
  readonly in: readonly string[];
  readonly out: readonly string[];
  readonly layer: number | null;
  readonly phase: Phase;
  readonly loc: SourceLoc;
  readonly free?: readonly string[];
}

/** Attention attributes both logical attention kinds carry (from the spec and the mesh). */
interface AttnAttrs {
  readonly batch: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly groups: number;
  readonly dk: number;
  readonly dv: number;
  readonly causal: boolean;
  readonly block: number;
}

/** Linear attention, in [q [B*H,C,dk], k [B*Hkv,C,dk], v [B*Hkv,C,dv], (g)] -> out [o [B*H,C,dv]]. */
export interface LinearAttnNode extends Common, AttnAttrs {
  readonly op: "linear_attn";
  readonly method: LinearMethod;
  readonly lambdas: readonly number[] | null;
  readonly gated: boolean;
}
/** in [q, k, v, (g), o, do] -> out [dq, dk, dv, (dg)]. */
export interface LinearAttnBwdNode extends Omit<LinearAttnNode, "op"> {
  readonly op: "linear_attn_bwd";
}
/** Softmax attention, in [q [B*H,C,dk], k [B*Hkv,C,dk], v] -> out [o [B*H,C,dv]]. */
export interface SoftmaxAttnNode extends Common, AttnAttrs {
  readonly op: "softmax_attn";
  readonly method: SoftmaxMethod;
  readonly scale: number;
}
/** in [q, k, v, o, do] -> out [dq, dk, dv]. */
export interface SoftmaxAttnBwdNode extends Omit<SoftmaxAttnNode, "op"> {
  readonly op: "softmax_attn_bwd";
}
/** Short causal conv across the whole sequence: in [x [B*C,w], weight [k,w]] -> out [y]. */
export interface ConvNode extends Common {
  readonly op: "conv";
  readonly batch: number;
  readonly kernel: number;
  readonly channels: number;
}
/** in [dy, x, weight] -> out [dx, dweight]. */
export interface ConvBwdNode extends Omit<ConvNode, "op"> {
  readonly op: "conv_bwd";
}
/** A collective before schedule-overlap splits it into comm_start / comm_wait: in [sent] -> out [results]. */
export type CollectiveNode = Omit<StepOf<"comm_start">, "op" | "handle" | "id" | "in" | "out" | "free"> &
  Common & { readonly op: "collective" };

export type LogicalNode =
  | LinearAttnNode
  | LinearAttnBwdNode
  | SoftmaxAttnNode
  | SoftmaxAttnBwdNode
  | ConvNode
  | ConvBwdNode
  | CollectiveNode;

export type Node = Step | LogicalNode;
export type OpKind = Node["op"];
export type NodeOf<K extends OpKind> = Extract<Node, { op: K }>;
export const LOGICAL_OPS: readonly LogicalNode["op"][] = [
  "linear_attn",
  "linear_attn_bwd",
  "softmax_attn",
  "softmax_attn_bwd",
  "conv",
  "conv_bwd",
  "collective",
];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A node before it has an id. */
export type Draft = DistributiveOmit<Node, "id">;

/** How the sequence is split (partition pass); rankTokens[r] = C of SP rank r. */
export interface PartitionInfo {
  readonly layout: Layout;
  readonly chunks: number;
  readonly segments: number;
  readonly rankTokens: readonly number[];
}

export interface Graph {
  readonly spec: Spec;
  readonly mesh: Mesh;
  readonly partition: PartitionInfo | null;
  readonly params: readonly Param[];
  readonly forward: readonly Node[];
  readonly backward: readonly Node[];
  readonly gradSync: readonly Node[];
  /** param name -> buffer holding its local (this rank's) gradient after backward (build-backward) */
  readonly localGrads: Readonly<Record<string, string>>;
  readonly estimates: Estimates | null;
  readonly diagnostics: readonly Diagnostic[];
}

export const PHASE_PREFIX: Record<Phase, string> = { forward: "f", backward: "b", grad_sync: "g" };

/** Gives drafts deterministic ids by position: f0, f1, ... (b for backward, g for grad sync). */
export function withIds(drafts: readonly (Draft | Node)[], phase: Phase): Node[] {
  const p = PHASE_PREFIX[phase];
  return drafts.map((d, i) => ({ ...d, id: `${p}${i}` }));
}

/** An empty graph for a spec: the input of the pipeline. */
export function initialGraph(spec: Spec): Graph {
  const { sp, dp } = spec.parallel;
  return {
    spec,
    mesh: { sp, dp, world: sp * dp },
    partition: null,
    params: [],
    forward: [],
    backward: [],
    gradSync: [],
    localGrads: {},
    estimates: null,
    diagnostics: [],
  };
}

/** Every node in program order: forward, backward, gradient sync. */
export function allNodes(g: Graph): Node[] {
  return [...g.forward, ...g.backward, ...g.gradSync];
}

/** Fixed buffer names of the plan's inputs and loss. */
export const TOKENS = "tokens";
export const TARGETS = "targets";
export const LOSS = "loss";
