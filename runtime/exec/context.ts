// The state a rank's interpreter threads through the plan's steps, and the handler type: one handler
// per plan op, collected in a table keyed by op so a new op does not type-check until it has one.
import type * as tf from "@tensorflow/tfjs-core";
import type { StepOf, StepOp } from "../../compiler/plan/schema.ts";
import type { CommHandle, Communicator } from "../comm/communicator.ts";
import type { Env } from "./env.ts";
import type { RankInfo } from "./rank-info.ts";

export interface Comms {
  readonly sp: Communicator;
  readonly dp: Communicator;
  readonly world: Communicator;
}

/** One interval of a rank's step timeline (seconds from the step start), for reports. */
export interface TimelineEvent {
  readonly kind: "compute" | "comm_start" | "comm_wait";
  readonly label: string;
  readonly layer: number | null;
  readonly t0: number;
  readonly t1: number;
}

export interface ExecStats {
  computeSeconds: number;
  commWaitSeconds: number;
  /** filled only when timeline recording is on */
  events: TimelineEvent[] | null;
  t0: number;
}

/** A collective in flight: its handle and how to turn the received floats back into tensors. */
export interface PendingComm {
  readonly handle: CommHandle;
  readonly stepId: string;
  readonly t0: number;
  readonly unpack: (data: Float32Array) => tf.Tensor[];
}

/**
 * Gradient accumulation over the micro-batches of one optimizer step (train.accum), as DDP's no_sync: on
 * every micro-batch but the last ("hold") the gradient all-reduces do not run and each bucket's local
 * gradients are added to `sums`; on the last ("send") the sums are added to the local gradients just before
 * their all-reduce starts, so the optimizer step sends each gradient once.
 */
export interface GradAccum {
  readonly mode: "hold" | "send";
  /** running sums of the local gradients, by the buffer name the all-reduce reads */
  readonly sums: Map<string, tf.Tensor>;
}

export interface ExecCtx {
  readonly env: Env;
  readonly info: RankInfo;
  readonly comms: Comms;
  readonly pending: Map<string, PendingComm>;
  readonly stats: ExecStats;
  /** overrides the xent scale: 1 / (scored targets in the global batch); null = the plan's scale */
  lossScale: number | null;
  /** the step being run, for error messages */
  current: string;
  /** buffers to copy out when written (layer outputs for `lasp verify`), and the copies */
  readonly capture: ReadonlySet<string>;
  readonly captured: Map<string, { data: Float32Array; shape: number[] }>;
  /** gradient accumulation over micro-batches; absent or null: every micro-batch is a whole step */
  readonly gradAccum?: GradAccum | null;
}

export type Handler<K extends StepOp> = (step: StepOf<K>, x: ExecCtx) => void | Promise<void>;
export type HandlerTable = { readonly [K in StepOp]: Handler<K> };
