// The comments of a generated plan module: one per layer (kind, method, spec line) and one per step
// (op, buffers in and out, output shapes on SP rank 0, and the collective of a comm_start / comm_wait).
import type { Plan, Step } from "../plan/schema.ts";

/** Buffer name -> shape on one SP rank (compiler/passes/estimate.ts bufferShapes). */
export type ShapeTable = ReadonlyMap<string, readonly number[]>;

const where = (l: { file: string; line: number; col: number }): string => `${l.file}:${l.line}:${l.col}`;

export function layerComment(plan: Plan, first: Step): string {
  if (first.layer === null) return `// ---- no layer (embedding, final norm, head, loss, gradients outside layers); ${where(first.loc)}`;
  const ls = plan.spec.model.layers[first.layer];
  const est = plan.estimates.layers[first.layer];
  const kind = ls?.kind ?? est?.kind ?? "?";
  const method = est?.method ?? "?";
  return `// ---- layer ${first.layer}: ${kind} attention, method ${method}; ${where(ls?.loc ?? first.loc)}`;
}

function shapeText(names: readonly string[], shapes: ShapeTable | undefined): string {
  return names.map((n) => (shapes === undefined ? n : `${n} [${shapes.get(n)?.join(", ") ?? "?"}]`)).join(", ");
}

export function stepComment(s: Step, shapes: ShapeTable | undefined): string {
  const outs = s.out.length === 0 ? "()" : shapeText(s.out, shapes);
  const base = `// ${s.id} ${s.op}(${s.in.join(", ")}) -> ${outs}`;
  if (s.op === "comm_start") return `${base}; START ${s.collective} over ${s.group}, handle ${s.handle}, ${s.bytesPerRank} B/rank`;
  if (s.op === "comm_wait") return `${base}; WAIT ${s.collective}, handle ${s.handle}`;
  return base;
}
