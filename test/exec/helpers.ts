// Shared setup of the runtime tests: small specs from tiny.lasp with --set overrides, and verify runs.
import { readFileSync } from "node:fs";
import { parseSpec } from "../../dsl/index.ts";
import type { Spec } from "../../dsl/spec.ts";
import { verifySpec, type VerifyReport } from "../../runtime/exec/verify.ts";

const TINY = new URL("../../examples/tiny.lasp", import.meta.url);

/** A small model (hidden 32, 2 layers linear + softmax, N = 37 tokens, batch 2) with overrides. */
export function smallSpec(over: readonly string[] = []): Spec {
  const text = readFileSync(TINY, "utf8");
  const base = ["train.data=random", "train.seq=37", "train.batch=2", "model.hidden=32", "model.ffn=64", "model.layers=[linear, softmax]"];
  const r = parseSpec(text, "tiny.lasp", [...base, ...over]);
  if (r.spec === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return r.spec;
}

/** The worst relative error over every compared activation and gradient. */
export function worst(rep: VerifyReport): number {
  return Math.max(rep.loss.relErr, ...rep.layers.flatMap((l) => [l.activation.relErr, ...l.grads.map((g) => g.relErr)]), ...rep.other.map((o) => o.relErr));
}

export async function verify(ranks: number, over: readonly string[]): Promise<VerifyReport> {
  return verifySpec(smallSpec(over), { ranks, backend: "wasm", tolerance: 1e-4 });
}
