// The simulator's prediction for a benchmark row (compiler/cost/simulate*.ts, `local` profile), when that
// module exists in the tree; the benchmark runs without it and prints no predicted column then.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plan } from "../../compiler/plan/schema.ts";
import type { BenchConfig } from "./specs.ts";

const SIM = new URL("../../compiler/cost/simulate.ts", import.meta.url);

export function simulateAvailable(): boolean {
  return existsSync(fileURLToPath(SIM));
}

type SimFn = (spec: Plan["spec"], gpus: number, profile: unknown, opts?: unknown) => unknown;
let loaded: { simulate: SimFn; profile: unknown } | null | undefined;

async function load(): Promise<{ simulate: SimFn; profile: unknown } | null> {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (!simulateAvailable()) return null;
  try {
    const mod = (await import(SIM.href)) as Record<string, unknown>;
    const simulate = mod["simulate"];
    if (typeof simulate !== "function") return null;
    // the profile: an exported `local` profile object, a profiles table, or the name itself
    const profiles = mod["PROFILES"] ?? mod["profiles"];
    const profile = (profiles as Record<string, unknown> | undefined)?.["local"] ?? mod["localProfile"] ?? mod["LOCAL"] ?? "local";
    loaded = { simulate: simulate as SimFn, profile };
  } catch (e) {
    process.stderr.write(`bench: compiler/cost/simulate.ts did not load (${(e as Error).message}); no predicted column\n`);
  }
  return loaded;
}

/** Seconds per training step the simulator predicts for this row, or null. */
export async function predictStep(c: BenchConfig, plan: Plan): Promise<number | null> {
  const sim = await load();
  if (sim === null) return null;
  try {
    const r = (await sim.simulate(plan.spec, c.ranks, sim.profile, {})) as Record<string, unknown>;
    for (const key of ["stepSeconds", "step", "seconds", "total", "totalSeconds"]) {
      const v = r[key];
      if (typeof v === "number") return v;
      if (v !== null && typeof v === "object" && typeof (v as Record<string, unknown>)["seconds"] === "number") return (v as { seconds: number }).seconds;
    }
  } catch (e) {
    process.stderr.write(`bench: simulate failed for ${c.kind} ${c.method} ${c.seq}: ${(e as Error).message}\n`);
  }
  return null;
}
