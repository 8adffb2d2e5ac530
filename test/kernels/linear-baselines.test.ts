// LASP-1 (laCarry chain in global chunk order) and ring attention (laCross hops plus the own-chunk
// laIntra) on W = 1..4 simulated ranks against the float64 oracle, output and every gradient.
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.ts";
import { makeCase, oracle, simulateLasp1, simulateRing, worst, type Variant } from "./linear-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

function check(errs: Record<string, number>, what: string): void {
  for (const [name, e] of Object.entries(errs)) expect(e, `${what} ${name}`).toBeLessThan(1e-4);
}

describe("LASP-1 carry chain matches the oracle", () => {
  for (const variant of ["none", "decay", "gated", "gated+decay"] as Variant[])
    it(`${variant} N=37 W=1..4 contiguous and zigzag`, () => {
      const c = makeCase(3, 37, 5, 3, variant, 101);
      const ref = oracle(c);
      for (const w of [1, 2, 3, 4])
        for (const layout of ["contiguous", "zigzag"] as const) check(worst(simulateLasp1(c, w, layout, 8), ref), `W=${w} ${layout}`);
    });
});

describe("ring attention (laCross hops) matches the oracle", () => {
  for (const variant of ["none", "decay", "bidir"] as Variant[])
    it(`${variant} N=50 W=1..4 contiguous and zigzag`, () => {
      const c = makeCase(3, 50, 5, 3, variant, 202);
      const ref = oracle(c);
      for (const w of [1, 2, 3, 4])
        for (const layout of ["contiguous", "zigzag"] as const) check(worst(simulateRing(c, w, layout, 8), ref), `W=${w} ${layout}`);
    });
});
