// The simulator's prediction for a benchmark plan (compiler/cost/simulate.ts predictPlan) with the `local`
// profile (this machine measured: compiler/cost/hardware/local.ts), printed beside the measured step.
// Loaded at run time, so the benchmarks still type-check and run in a tree without the simulator.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plan } from "../../compiler/plan/schema.ts";

export interface Predicted {
  readonly stepSeconds: number;
  readonly computeSeconds: number;
  readonly exposedCommSeconds: number;
}

/** What the benchmarks use of the simulator (simulate.ts predictPlan, hardware/local.ts loadLocalProfile). */
interface SimPrediction {
  readonly stepSeconds: number;
  readonly time: { readonly computeSeconds: number; readonly exposedCommSeconds: number };
}
type Profile = { readonly sources?: readonly string[] } & Record<string, unknown>;
export interface Simulator {
  readonly profile: Profile;
  /** the profile's first source line: what was measured, and when */
  readonly source: string;
  predict(plan: Plan): Predicted | null;
}

const SIMULATE = new URL("../../compiler/cost/simulate.ts", import.meta.url);
const LOCAL = new URL("../../compiler/cost/hardware/local.ts", import.meta.url);

/** The simulator with the local profile (`refresh`: measure this machine now), or null when not in the tree. */
export async function loadSimulator(refresh: boolean): Promise<Simulator | null> {
  if (![SIMULATE, LOCAL].every((u) => existsSync(fileURLToPath(u)))) return null;
  try {
    const sim = (await import(SIMULATE.href)) as { predictPlan: (p: Plan, hw: Profile, dtype: "fp32") => SimPrediction };
    const local = (await import(LOCAL.href)) as { loadLocalProfile: (o: { refresh?: boolean }) => Promise<Profile> };
    const profile = await local.loadLocalProfile({ refresh });
    return {
      profile,
      source: profile.sources?.[0] ?? "",
      predict(plan) {
        try {
          const p = sim.predictPlan(plan, profile, "fp32");
          return { stepSeconds: p.stepSeconds, computeSeconds: p.time.computeSeconds, exposedCommSeconds: p.time.exposedCommSeconds };
        } catch (e) {
          process.stderr.write(`bench: simulate failed: ${(e as Error).message}\n`);
          return null;
        }
      },
    };
  } catch (e) {
    process.stderr.write(`bench: the simulator did not load (${(e as Error).message}); no predicted column\n`);
    return null;
  }
}
