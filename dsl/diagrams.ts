// Writes docs/grammar.html: Chevrotain's railroad diagrams of the .lasp grammar, one per rule.
// Run: npx tsx dsl/diagrams.ts  (commit the result; the test checks it is current)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSyntaxDiagramsCode } from "chevrotain";
import { parser } from "./grammar.ts";

export function grammarHtml(): string {
  return createSyntaxDiagramsCode(parser.getSerializedGastProductions());
}

if (process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`) {
  const out = join(import.meta.dirname, "../docs/grammar.html");
  writeFileSync(out, grammarHtml());
  process.stdout.write(`wrote ${out}\n`);
}
