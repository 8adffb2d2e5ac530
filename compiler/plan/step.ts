// The fields every plan step shares, and the helper that builds one op's step schema from them.
// Each op's schema lives beside its doc comment in ops-*.ts; schema.ts unions them into `Step`.
import { Type, type TProperties, type TObject, type TLiteral, type Static } from "@sinclair/typebox";
import { SourceLoc } from "../../dsl/spec.ts";

export const Phase = Type.Union([Type.Literal("forward"), Type.Literal("backward"), Type.Literal("grad_sync")]);
export type Phase = Static<typeof Phase>;

/** Fields of every step. `in`/`out` are buffer names; every buffer is written by exactly one step. */
export const commonStepFields = {
  /** unique in the plan: f<n> forward, b<n> backward, g<n> gradient sync, numbered in order */
  id: Type.String(),
  in: Type.Array(Type.String()),
  out: Type.Array(Type.String()),
  /** model layer the step belongs to; null for embedding, final norm, head, loss */
  layer: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  phase: Phase,
  /** where in the spec the construct that produced this step was written */
  loc: SourceLoc,
  /** buffers no later step reads: the interpreter may dispose them after this step (liveness pass) */
  free: Type.Optional(Type.Array(Type.String())),
};

type Common = typeof commonStepFields;
export type StepSchema<K extends string, A extends TProperties> = TObject<{ op: TLiteral<K> } & Common & A>;

/** One op's step schema: `{op: K, ...common, ...attrs}`, closed (no extra properties). */
export function stepSchema<K extends string, A extends TProperties>(
  op: K,
  attrs: A,
  description: string,
): StepSchema<K, A> {
  return Type.Object({ op: Type.Literal(op), ...commonStepFields, ...attrs }, {
    title: op,
    description,
    additionalProperties: false,
  }) as unknown as StepSchema<K, A>;
}

/** A positive integer attribute. */
export const PosInt = (description: string) => Type.Integer({ minimum: 1, description });
/** A non-negative integer attribute. */
export const NatInt = (description: string) => Type.Integer({ minimum: 0, description });
