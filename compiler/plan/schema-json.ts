// The Plan schema as plain JSON Schema (draft-07): what ajv compiles and what plan.schema.json holds.
// Nested schemas with an $id (SourceLoc, Spec, Step) move to `definitions` and are referenced by $ref,
// so the document is self-contained, has one id, and each shared schema is written once.
import { Plan } from "./schema.ts";
import { canonicalJson } from "./canonical.ts";

function hoist(v: unknown, root: boolean, defs: Record<string, unknown>): unknown {
  if (Array.isArray(v)) return v.map((x) => hoist(x, false, defs));
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  const id = o["$id"];
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) if (root || k !== "$id") out[k] = hoist(x, false, defs);
  if (root || typeof id !== "string") return out;
  // a union of closed step objects: tell ajv to pick the branch by `op`, so errors name one op's rule
  if (id === "Step" && Array.isArray(out["anyOf"])) {
    out["oneOf"] = out["anyOf"];
    delete out["anyOf"];
    out["discriminator"] = { propertyName: "op" };
    out["required"] = ["op"];
  }
  defs[id] ??= out;
  return { $ref: `#/definitions/${id}` };
}

/** The plan schema as a plain JSON object. */
export function planJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const body = hoist(JSON.parse(JSON.stringify(Plan)), true, defs) as Record<string, unknown>;
  return { $schema: "http://json-schema.org/draft-07/schema#", ...body, definitions: defs };
}

/** The text of plan.schema.json. */
export function planSchemaJson(): string {
  return canonicalJson(planJsonSchema());
}
