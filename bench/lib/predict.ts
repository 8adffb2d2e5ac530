// The simulator's prediction for a benchmark plan (compiler/cost/simulate.ts predictPlan) with the `local`
// profile (this machine measured: compiler/cost/hardware/local.ts), printed beside the measured step.
import type { Plan } from "../../compiler/plan/schema.ts";
import { loadLocalProfile } from "../../compiler/cost/hardware/local.ts";
import type { HardwareProfile } from "../../compiler/cost/hardware/profile.ts";
import { predictPlan } from "../../compiler/cost/simulate.ts";

export interface Predicted {
  readonly stepSeconds: number;
  readonly computeSeconds: number;
  readonly exposedCommSeconds: number;
}

/** The local profile; `refresh` measures this machine now instead of reading the cached measurement. */
export async function localProfile(refresh: boolean): Promise<HardwareProfile> {
  return loadLocalProfile({ refresh });
}

export function predict(plan: Plan, hw: HardwareProfile): Predicted | null {
  try {
    const p = predictPlan(plan, hw, "fp32");
    return { stepSeconds: p.stepSeconds, computeSeconds: p.time.computeSeconds, exposedCommSeconds: p.time.exposedCommSeconds };
  } catch (e) {
    process.stderr.write(`bench: simulate failed: ${(e as Error).message}\n`);
    return null;
  }
}
