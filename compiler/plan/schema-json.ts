// The Plan schema as plain JSON Schema (draft-07): what ajv compiles and what plan.schema.json holds.
// Nested $ids (SourceLoc, Spec, Step) are dropped so the document is self-contained with one id.
import { Plan } from "./schema.ts";
import { canonicalJson } from "./canonical.ts";

function stripIds(v: unknown, root: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => stripIds(x, false));
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (root || k !== "$id") out[k] = stripIds(x, false);
  return out;
}

/** The plan schema as a plain JSON object. */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    ...(stripIds(JSON.parse(JSON.stringify(Plan)), true) as Record<string, unknown>),
  };
}

/** The text of plan.schema.json. */
export function planSchemaJson(): string {
  return canonicalJson(planJsonSchema());
}
