// The simulator's prediction for a benchmark plan (compiler/cost/simulate.ts predictPlan) with the `local`
// profile (this machine measured: compiler/cost/hardware/local.ts), printed beside the measured step.
// Imported statically, so the esbuild bundles of bench/device-cpu carry it (a path resolved at run time
// from the bundle's own folder pointed outside the tree there, and the column and --link xauto were lost).
import type { Plan } from "../../compiler/plan/schema.ts";
import type { HardwareProfile } from "../../compiler/cost/hardware/profile.ts";
import { predictPlan } from "../../compiler/cost/simulate.ts";
import { loadLocalProfile } from "../../compiler/cost/hardware/local.ts";

export interface Predicted {
  readonly stepSeconds: number;
  readonly computeSeconds: number;
  readonly exposedCommSeconds: number;
}

export interface Simulator {
  readonly profile: HardwareProfile;
  /** the profile's first source line: what was measured, and when */
  readonly source: string;
  predict(plan: Plan): Predicted | null;
}

/** The simulator with the local profile (`refresh`: measure this machine now), or null when the profile cannot be measured. */
export async function loadSimulator(refresh: boolean): Promise<Simulator | null> {
  let profile: HardwareProfile;
  try {
    profile = await loadLocalProfile({ refresh });
  } catch (e) {
    process.stderr.write(`bench: the local profile could not be measured (${(e as Error).message}); no predicted column\n`);
    return null;
  }
  return {
    profile,
    source: profile.sources[0] ?? "",
    predict(plan) {
      try {
        const p = predictPlan(plan, profile, "fp32");
        return { stepSeconds: p.stepSeconds, computeSeconds: p.time.computeSeconds, exposedCommSeconds: p.time.exposedCommSeconds };
      } catch (e) {
        process.stderr.write(`bench: simulate failed: ${(e as Error).message}\n`);
        return null;
      }
    },
  };
}
