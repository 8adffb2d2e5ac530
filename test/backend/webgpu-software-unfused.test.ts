// The webgpu backend's tfjs-op paths (LASP_WEBGPU_FUSED=0: no fused scan or tile) on the software Vulkan
// device against the float64 oracles: the comparison setting of bench/gpu (RUN_MODE=fused) must be exact
// too. Token cumsums still go through the WGSL scan there (tfjs-webgpu's reverse cumsum is wrong on lavapipe).
import { afterAll, describe, expect, it } from "vitest";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";
import { makeCase, oracle, simulateLasp2Async, worst, type Variant } from "../kernels/linear-harness.ts";

process.env["LASP_WEBGPU_SOFTWARE"] = "1";
process.env["LASP_WEBGPU_FUSED"] = "0";
process.env["XDG_RUNTIME_DIR"] ??= "/tmp";
const start = await startWebGPU();
const why = start.ok ? "" : start.reason;
if (!start.ok && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error(`webgpu software device required: ${why}`);
afterAll(() => stopWebGPU());

describe.skipIf(!start.ok)(`webgpu tfjs-op paths on a software device${start.ok ? "" : ` (skipped: ${why})`}`, () => {
  for (const variant of ["none", "decay", "gated", "bidir"] as Variant[])
    it(`linear attention ${variant}, N 37 over 3 ranks zigzag, block 4: the float64 oracle`, async () => {
      const c = makeCase(3, 37, 5, 3, variant, 21);
      const errs = worst(await simulateLasp2Async(c, 3, "zigzag", 4), oracle(c));
      for (const [k, e] of Object.entries(errs)) expect(e, k).toBeLessThan(1e-4);
    });
});
