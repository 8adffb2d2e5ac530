// AdamW, clipping and the LR schedule against a float64 reference written here from the formulas
// (it shares no code with runtime/train/optimizer.ts or schedule.ts).
import { describe, expect, it } from "vitest";
import { adamwStep, clipGradNorm, createAdamWState, decayMatricesOnly, globalGradNorm } from "../../runtime/train/optimizer.ts";
import { lrAt } from "../../runtime/train/schedule.ts";
import { Rng } from "../../runtime/train/rng.ts";

interface Hyper { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; warmup: number; minLrRatio: number; clip: number; schedule: "cosine" | "constant" }

function refLr(s: number, h: Hyper, total: number): number {
  if (s < h.warmup) return (h.lr * (s + 1)) / h.warmup;
  if (h.schedule === "constant") return h.lr;
  const p = Math.min(1, (s - h.warmup) / (total - h.warmup));
  return h.lr * h.minLrRatio + (h.lr - h.lr * h.minLrRatio) * (1 + Math.cos(Math.PI * p)) / 2;
}

/** Float64 reference: T steps of clipped AdamW on one flat parameter list. */
function refTrain(w0: number[][], grads: number[][][], decays: boolean[], h: Hyper, total: number): { w: number[][]; norms: number[] } {
  const w = w0.map((x) => [...x]);
  const m = w0.map((x) => x.map(() => 0));
  const v = w0.map((x) => x.map(() => 0));
  const norms: number[] = [];
  grads.forEach((gs, s) => {
    const norm = Math.sqrt(gs.flat().reduce((a, g) => a + g * g, 0));
    norms.push(norm);
    const c = h.clip > 0 && norm > h.clip ? h.clip / (norm + 1e-6) : 1;
    const lr = refLr(s, h, total);
    const t = s + 1;
    for (let p = 0; p < w.length; p++) {
      for (let i = 0; i < w[p]!.length; i++) {
        const g = gs[p]![i]! * c;
        if (decays[p]) w[p]![i]! -= lr * h.weightDecay * w[p]![i]!;
        m[p]![i] = h.beta1 * m[p]![i]! + (1 - h.beta1) * g;
        v[p]![i] = h.beta2 * v[p]![i]! + (1 - h.beta2) * g * g;
        const mh = m[p]![i]! / (1 - h.beta1 ** t);
        const vh = v[p]![i]! / (1 - h.beta2 ** t);
        w[p]![i]! -= (lr * mh) / (Math.sqrt(vh) + h.eps);
      }
    }
  });
  return { w, norms };
}

describe("lrAt", () => {
  const h: Hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, warmup: 10, minLrRatio: 0.1, clip: 1, schedule: "cosine" };
  it("warms up linearly from lr/warmup, peaks at step warmup, decays by cosine to minLrRatio*lr", () => {
    expect(lrAt(0, h, 100)).toBeCloseTo(1e-4, 15);
    expect(lrAt(9, h, 100)).toBeCloseTo(1e-3, 15);
    expect(lrAt(10, h, 100)).toBeCloseTo(1e-3, 15);
    expect(lrAt(55, h, 100)).toBeCloseTo(0.55e-3, 15); // half way: (lr + floor) / 2
    expect(lrAt(100, h, 100)).toBeCloseTo(1e-4, 15);
    expect(lrAt(500, h, 100)).toBeCloseTo(1e-4, 15);
    for (let s = 0; s < 120; s++) expect(lrAt(s, h, 100)).toBeCloseTo(refLr(s, h, 100), 15);
    for (let s = 11; s < 100; s++) expect(lrAt(s, h, 100)).toBeLessThan(lrAt(s - 1, h, 100));
  });
  it("constant after warm-up; no warm-up means lr from step 0", () => {
    expect(lrAt(50, { ...h, schedule: "constant" }, 100)).toBe(1e-3);
    expect(lrAt(0, { ...h, warmup: 0 }, 100)).toBe(1e-3);
    expect(lrAt(3, { ...h, warmup: 0 }, 0)).toBe(1e-3); // no decay span
    expect(() => lrAt(-1, h, 10)).toThrow(/non-negative/);
  });
});

describe("AdamW", () => {
  it("first update moves each weight by lr * sign(g) (bias correction) when wd = 0", () => {
    const w = new Map([["a", new Float32Array([1, 2, 3])]]);
    const g = new Map([["a", new Float32Array([0.5, -1e-3, 100])]]);
    const st = createAdamWState(w);
    adamwStep(w, g, st, 0.01, { beta1: 0.9, beta2: 0.999, eps: 1e-12, weightDecay: 0 }, () => true);
    expect(Array.from(w.get("a")!).map((x) => +x.toFixed(5))).toEqual([0.99, 2.01, 2.99]);
    expect(st.step).toBe(1);
  });

  it("matches the float64 reference over 30 steps with warm-up, cosine, clipping and selective decay", () => {
    const h: Hyper = { lr: 3e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, warmup: 5, minLrRatio: 0.1, clip: 1.5, schedule: "cosine" };
    const shapes = new Map<string, number[]>([["emb", [7, 3]], ["norm", [3]], ["proj", [3, 5]], ["bias", [5]]]);
    const names = [...shapes.keys()];
    const rng = new Rng(99);
    const weights = new Map(names.map((n) => [n, rng.normalArray(shapes.get(n)!.reduce((a, b) => a * b, 1), 0.5)]));
    const w0 = names.map((n) => Array.from(weights.get(n)!));
    const T = 30;
    const grads = Array.from({ length: T }, (_, s) => names.map((n) => Array.from(rng.normalArray(weights.get(n)!.length, s % 3 === 0 ? 2 : 0.05))));
    const decay = decayMatricesOnly(shapes);
    const ref = refTrain(w0, grads.map((gs) => gs.map((g) => g.map(Math.fround))), names.map(decay), h, T);
    const st = createAdamWState(weights);
    let clipped = 0;
    for (let s = 0; s < T; s++) {
      const g = new Map(names.map((n, p) => [n, Float32Array.from(grads[s]![p]!)]));
      const norm = clipGradNorm(g, h.clip);
      expect(norm).toBeCloseTo(ref.norms[s]!, 4);
      if (norm > h.clip) {
        clipped++;
        expect(globalGradNorm(g)).toBeCloseTo(h.clip, 4);
      }
      adamwStep(weights, g, st, lrAt(s, h, T), h, decay);
    }
    expect(clipped).toBeGreaterThan(0);
    expect(clipped).toBeLessThan(T);
    expect(st.step).toBe(T);
    names.forEach((n, p) => {
      const got = weights.get(n)!;
      ref.w[p]!.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(2e-5 * (1 + Math.abs(x))));
    });
  });

  it("decays only where the predicate says, and refuses a missing gradient", () => {
    const w = new Map([["m", new Float32Array([1])], ["b", new Float32Array([1])]]);
    const g = new Map([["m", new Float32Array([0])], ["b", new Float32Array([0])]]);
    const st = createAdamWState(w);
    adamwStep(w, g, st, 0.5, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.2 }, (n) => n === "m");
    expect(w.get("m")![0]).toBeCloseTo(0.9, 6);
    expect(w.get("b")![0]).toBe(1);
    expect(() => adamwStep(w, new Map([["m", new Float32Array(1)]]), st, 0.1, { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 }, () => false)).toThrow(/'b' has no gradient/);
    expect(() => decayMatricesOnly(new Map())("x")).toThrow(/no shape for parameter 'x'/);
  });

  it("clip 0 is off and returns the norm", () => {
    const g = new Map([["a", new Float32Array([3, 4])]]);
    expect(clipGradNorm(g, 0)).toBe(5);
    expect(Array.from(g.get("a")!)).toEqual([3, 4]);
  });
});
