// Shared test helpers: parse inline specs, list codes, and a minimal valid model to build on.
import { parseSpec, type LoadResult } from "../../dsl/index.ts";
import type { Spec } from "../../dsl/spec.ts";

export const MINIMAL = "model m { vocab 256 hidden 64 heads 4 layers 2 = [linear, softmax] }\n";

export function ok(source: string, overrides: readonly string[] = []): Spec {
  const r = parseSpec(source, "test.lasp", overrides);
  if (r.spec === undefined || r.diagnostics.length > 0) {
    throw new Error(`expected a clean spec, got:\n${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n")}`);
  }
  return r.spec;
}

export function codes(r: LoadResult): string[] {
  return r.diagnostics.map((d) => d.code);
}

export function bad(source: string, overrides: readonly string[] = []): LoadResult {
  const r = parseSpec(source, "test.lasp", overrides);
  if (r.spec !== undefined) throw new Error("expected errors, got a spec");
  return r;
}
