// The seeded PRNG: deterministic per (seed, keys), distinct streams, sane uniform and normal moments.
import { describe, expect, it } from "vitest";
import { Rng, hashString, mixSeed } from "../../runtime/train/rng.ts";

describe("Rng", () => {
  it("is deterministic per (seed, keys) and differs across keys", () => {
    const a = Array.from({ length: 8 }, ((r) => () => r.nextU32())(new Rng(42, 1, 2)));
    const b = Array.from({ length: 8 }, ((r) => () => r.nextU32())(new Rng(42, 1, 2)));
    const c = Array.from({ length: 8 }, ((r) => () => r.nextU32())(new Rng(42, 2, 1)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(mixSeed(1, 2 ** 33)).not.toBe(mixSeed(1, 2 ** 34));
    expect(hashString("layers.0.wq")).not.toBe(hashString("layers.0.wk"));
  });

  it("draws uniform floats and ints with the right moments and range", () => {
    const r = new Rng(7);
    const n = 20000;
    let sum = 0;
    const counts = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      const f = r.float();
      if (!(f >= 0 && f < 1)) throw new Error(`float out of range: ${f}`);
      sum += f;
      counts[r.int(10)]++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    for (const c of counts) expect(Math.abs(c - n / 10)).toBeLessThan(n / 10 * 0.1);
  });

  it("draws standard normals (mean 0, variance 1)", () => {
    const x = new Rng(3).normalArray(40000);
    let m = 0;
    for (const v of x) m += v;
    m /= x.length;
    let s = 0;
    for (const v of x) s += (v - m) ** 2;
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(s / x.length - 1)).toBeLessThan(0.03);
  });

  it("samples distinct values", () => {
    const s = new Rng(1).sample(50, 50);
    expect(new Set(s).size).toBe(50);
    expect(Math.min(...s)).toBe(0);
    expect(Math.max(...s)).toBe(49);
    expect(() => new Rng(1).sample(3, 4)).toThrow(/cannot draw 4/);
  });
});
