// LASP-2 linear attention on W = 1..4 simulated ranks (contiguous and zigzag layouts) against the
// float64 quadratic oracle: output and every gradient, all decay variants, odd sizes and tails.
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.ts";
import { makeCase, oracle, simulateLasp2, worst, type Case, type Result, type Variant } from "./linear-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

const variants: Variant[] = ["none", "decay", "gated", "gated+decay", "bidir"];
const cases = new Map<string, { c: Case; ref: Result }>();
function get(n: number, variant: Variant): { c: Case; ref: Result } {
  const key = `${n}/${variant}`;
  if (!cases.has(key)) {
    const c = makeCase(3, n, 5, 3, variant, n * 31 + variants.indexOf(variant));
    cases.set(key, { c, ref: oracle(c) });
  }
  return cases.get(key)!;
}

describe("LASP-2 linear attention matches the float64 oracle", () => {
  for (const variant of variants)
    for (const n of [37, 50])
      for (const layout of ["contiguous", "zigzag"] as const)
        it(`${variant} N=${n} ${layout} W=1..4 block 8`, () => {
          const { c, ref } = get(n, variant);
          for (const w of [1, 2, 3, 4]) {
            const errs = worst(simulateLasp2(c, w, layout, 8), ref);
            for (const [name, e] of Object.entries(errs)) expect(e, `W=${w} ${name}`).toBeLessThan(1e-4);
          }
        });
});
