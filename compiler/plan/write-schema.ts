// Writes plan.schema.json at the repo root from the TypeBox schema (run: npx tsx compiler/plan/write-schema.ts).
// A test checks the committed file is up to date.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { planSchemaJson } from "./schema-json.ts";

const path = fileURLToPath(new URL("../../plan.schema.json", import.meta.url));
writeFileSync(path, planSchemaJson());
process.stdout.write(`wrote ${path}\n`);
