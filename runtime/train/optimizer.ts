// AdamW on plain Float32Arrays keyed by parameter name: decoupled weight decay (skipped where the
// predicate says so: norms, biases), bias correction, global grad-norm clipping. Matches torch.optim.AdamW.
import type { OptimizerSpec } from "../../dsl/spec.ts";

export type Params = Map<string, Float32Array>;

export interface AdamWState {
  /** updates applied so far; the next update uses bias correction with t = step + 1 */
  step: number;
  readonly m: Params;
  readonly v: Params;
}

export type AdamWHyper = Pick<OptimizerSpec, "beta1" | "beta2" | "eps" | "weightDecay">;

/** Zeroed first and second moments, one per parameter. */
export function createAdamWState(weights: ReadonlyMap<string, Float32Array>): AdamWState {
  const m: Params = new Map();
  const v: Params = new Map();
  for (const [name, w] of weights) {
    m.set(name, new Float32Array(w.length));
    v.set(name, new Float32Array(w.length));
  }
  return { step: 0, m, v };
}

/** Default decay predicate: decay matrices (rank >= 2: projections, embeddings), not vectors (norm gains, biases, decay lambdas). */
export function decayMatricesOnly(shapes: ReadonlyMap<string, readonly number[]>): (name: string) => boolean {
  return (name) => {
    const s = shapes.get(name);
    if (s === undefined) throw new Error(`decay predicate: no shape for parameter '${name}'`);
    return s.length >= 2;
  };
}

/** L2 norm of all gradients together (accumulated in float64). */
export function globalGradNorm(grads: ReadonlyMap<string, Float32Array>): number {
  let sq = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  return Math.sqrt(sq);
}

/**
 * Clip in place so the global norm is at most maxNorm (0 = off); returns the norm BEFORE clipping.
 * Scale = maxNorm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_ does.
 */
export function clipGradNorm(grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  const norm = globalGradNorm(grads);
  if (maxNorm > 0 && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
  }
  return norm;
}

/**
 * One AdamW update in place, then state.step += 1. With t = state.step + 1:
 *   w <- w * (1 - lr * wd)                 (only where decay(name))
 *   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 *   w <- w - lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)
 * Every weight must have a gradient of the same length (a missing one is a broken invariant).
 */
export function adamwStep(
  weights: ReadonlyMap<string, Float32Array>,
  grads: ReadonlyMap<string, Float32Array>,
  state: AdamWState,
  lr: number,
  hyper: AdamWHyper,
  decay: (name: string) => boolean,
): void {
  const { beta1: b1, beta2: b2, eps, weightDecay: wd } = hyper;
  const t = state.step + 1;
  const bc1 = 1 - b1 ** t;
  const bc2Sqrt = Math.sqrt(1 - b2 ** t);
  const stepSize = lr / bc1;
  for (const [name, w] of weights) {
    const g = grads.get(name);
    const m = state.m.get(name);
    const v = state.v.get(name);
    if (g === undefined || m === undefined || v === undefined) {
      throw new Error(`adamwStep: parameter '${name}' has no ${g === undefined ? "gradient" : "optimizer state"}`);
    }
    if (g.length !== w.length || m.length !== w.length || v.length !== w.length) {
      throw new Error(`adamwStep: parameter '${name}' has ${w.length} values, gradient ${g.length}, m ${m.length}, v ${v.length}`);
    }
    const shrink = decay(name) ? 1 - lr * wd : 1;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = w[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  }
  state.step = t;
}
