// Validation of a plan against the schema (ajv), for the runtime before it runs anything and for tests.
// Each error names the failing place in the plan (instancePath) and the schema rule (schemaPath).
import { Ajv, type ValidateFunction } from "ajv";
import type { Plan } from "./schema.ts";
import { planJsonSchema } from "./schema-json.ts";

export interface PlanError {
  /** JSON pointer into the plan, e.g. /forward/3/in */
  readonly instancePath: string;
  /** JSON pointer into plan.schema.json, e.g. #/properties/forward/items/anyOf/2/required */
  readonly schemaPath: string;
  readonly message: string;
}

/**
 * ajv reports schema paths relative to the innermost $ref'd definition; make them absolute. The plan's
 * refs are SourceLoc (every `loc`), Spec (`/spec`) and Step (the items of the three step lists).
 */
function absoluteSchemaPath(instancePath: string, schemaPath: string): string {
  if (schemaPath.startsWith("#/definitions/")) return schemaPath;
  const rel = schemaPath.slice(1);
  if (instancePath.startsWith("/spec")) return `#/definitions/Spec${rel}`;
  if (/^\/(forward|backward|gradSync)\/\d+/.test(instancePath) && !schemaPath.startsWith("#/properties/forward")) {
    return `#/definitions/Step${rel}`;
  }
  return schemaPath;
}

// ajv takes about a second to compile this schema (50 step kinds); code optimisation off halves it.
let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: false, discriminator: true, code: { optimize: false } }).compile(planJsonSchema());
  return compiled;
}

/** [] when `plan` is a valid plan; otherwise every fault ajv found. */
export function validatePlan(plan: unknown): PlanError[] {
  const v = validator();
  if (v(plan)) return [];
  return (v.errors ?? []).map((e) => ({
    instancePath: e.instancePath,
    schemaPath: absoluteSchemaPath(e.instancePath, e.schemaPath),
    message: e.message ?? "invalid",
  }));
}

/** Throws with the first faults listed when `plan` is not a valid plan; returns it typed otherwise. */
export function assertPlan(plan: unknown): Plan {
  const errs = validatePlan(plan);
  if (errs.length > 0) {
    const head = errs.slice(0, 5).map((e) => `${e.instancePath || "/"}: ${e.message} (${e.schemaPath})`);
    throw new TypeError(`invalid plan: ${errs.length} error(s)\n  ${head.join("\n  ")}`);
  }
  return plan as Plan;
}
