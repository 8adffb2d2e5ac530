// The float64 oracle's hand-derived gradients against central finite differences of its own forward,
// for every variant (plain, fixed decay, gates, gates with decay, bidirectional).
import { describe, expect, it } from "vitest";
import { oracleBackward, oracleForward, type OracleInput } from "../oracle/linear-attention.ts";
import { makeCase, type Variant } from "./linear-harness.ts";

function loss(x: OracleInput, dO: Float64Array): number {
  const o = oracleForward(x);
  let s = 0;
  for (let i = 0; i < o.length; i++) s += o[i]! * dO[i]!;
  return s;
}

describe("oracle gradients equal central finite differences (float64)", () => {
  for (const variant of ["none", "decay", "gated", "gated+decay", "bidir"] as Variant[])
    it(variant, () => {
      const { x, dO } = makeCase(2, 7, 3, 2, variant, 11);
      const grads = oracleBackward(x, dO);
      const h = 1e-6;
      const fields = ["q", "k", "v", ...(x.g ? ["g"] : [])] as const;
      for (const f of fields) {
        const arr = x[f as "q"];
        const an = grads[`d${f}` as "dq"];
        let maxErr = 0;
        let maxRef = 0;
        for (let i = 0; i < arr.length; i++) {
          const keep = arr[i]!;
          arr[i] = keep + h;
          const up = loss(x, dO);
          arr[i] = keep - h;
          const down = loss(x, dO);
          arr[i] = keep;
          const fd = (up - down) / (2 * h);
          maxErr = Math.max(maxErr, Math.abs(fd - an[i]!));
          maxRef = Math.max(maxRef, Math.abs(fd));
        }
        expect(maxRef, `${f} gradient is not trivially zero`).toBeGreaterThan(0.1);
        expect(maxErr / maxRef, `d${f}`).toBeLessThan(1e-7);
      }
    });
});
