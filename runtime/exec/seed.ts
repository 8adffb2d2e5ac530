// Initial weights of a plan's parameters from the spec's seed: identical on every rank and for any
// rank count, so an SP run and a single-device run start from the same model.
import type { Plan } from "../../compiler/plan/schema.ts";
import { initParams } from "../train/init.ts";

/** Weights of the plan's parameters from the seed (identical on every rank). */
export function seedWeights(plan: Plan): Map<string, Float32Array> {
  const params = plan.params.map((p) => ({
    name: p.name,
    shape: p.shape,
    init:
      p.init.kind === "normal"
        ? ({ kind: "normal", std: p.init.std } as const)
        : ({ kind: "constant", value: p.init.kind === "ones" ? 1 : 0 } as const),
  }));
  return initParams(params, plan.spec.train.seed).weights;
}

