// Deterministic parameter initialisation: each parameter drawn from its own stream keyed by
// (seed, name), so the values do not depend on the rank count, the order of parameters or the plan.
import { Rng, hashString } from "./rng.ts";

export type InitKind =
  | { readonly kind: "normal"; readonly std: number }
  | { readonly kind: "uniform"; readonly bound: number }
  | { readonly kind: "constant"; readonly value: number };

export interface ParamInit {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
}

/** Stream label for weight initialisation (distinct from the data streams). */
const STREAM_INIT = 0x696e6974;

export function initParam(p: ParamInit, seed: number): Float32Array {
  const n = p.shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(n) || n < 0) throw new Error(`initParam: parameter '${p.name}' has an invalid shape [${p.shape.join(", ")}]`);
  const init = p.init;
  switch (init.kind) {
    case "constant":
      return new Float32Array(n).fill(init.value);
    case "normal":
      return new Rng(seed, STREAM_INIT, hashString(p.name)).normalArray(n, init.std);
    case "uniform": {
      const rng = new Rng(seed, STREAM_INIT, hashString(p.name));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = (2 * rng.float() - 1) * init.bound;
      return out;
    }
    default:
      return init satisfies never;
  }
}

/** weights and shapes maps for a list of parameters (names must be unique). */
export function initParams(params: readonly ParamInit[], seed: number): { weights: Map<string, Float32Array>; shapes: Map<string, number[]> } {
  const weights = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  for (const p of params) {
    if (weights.has(p.name)) throw new Error(`initParams: parameter '${p.name}' listed twice`);
    weights.set(p.name, initParam(p, seed));
    shapes.set(p.name, [...p.shape]);
  }
  return { weights, shapes };
}
