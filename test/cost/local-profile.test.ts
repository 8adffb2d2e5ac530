// The local profile from a measurement (no benchmark run here): ranks share the machine's cores, memory
// per rank is the wasm32 heap or the machine's share, collectives are one shared-memory exchange.
import { describe, expect, it } from "vitest";
import { localProfile, type LocalMeasurement } from "../../compiler/cost/hardware/local.ts";
import { deviceMemory } from "../../compiler/cost/simulate-memory.ts";
import { collectiveTime } from "../../compiler/cost/simulate-comm.ts";
import { stepSeconds } from "../../compiler/cost/simulate-compute.ts";
import { predictPlan, specFor } from "../../compiler/cost/simulate.ts";
import { compile } from "../../compiler/index.ts";
import { loadSpecFile } from "../../dsl/index.ts";

const M: LocalMeasurement = {
  key: "test",
  measuredAt: "2026-01-01T00:00:00Z",
  matmulFlops: 8e9,
  attentionFlops: 1e9,
  linearAttentionFlops: 4e9,
  opSeconds: 50e-6,
  elementwiseBandwidth: 2e9,
  elementwiseFlops: 1e9,
  copyBandwidth: 4e9,
  wakeLatency: 20e-6,
  cores: 2,
  totalMemory: 16 * 2 ** 30,
};

describe("local profile", () => {
  const hw = localProfile(M);
  it("takes its rates from the measurement", () => {
    expect(hw.peakFlops.fp32).toBe(8e9);
    expect(hw.attentionEfficiency).toBeCloseTo(1 / 8, 12);
    expect(hw.linearAttentionEfficiency).toBeCloseTo(1 / 2, 12);
    expect(hw.memoryBandwidth).toBe(2e9);
    expect(hw.intra.bandwidth).toBe(4e9);
    expect(hw.computeUnits).toBe(2);
  });
  it("times linear-attention ops at their own measured rate, softmax attention at its own", () => {
    const w = { flops: 1e9, bytes: 0 };
    const la = stepSeconds("la_intra", w, hw, "fp32") - hw.opOverhead;
    const sa = stepSeconds("sa_forward", w, hw, "fp32") - hw.opOverhead;
    expect(la).toBeCloseTo(1e9 / 4e9, 9);
    expect(sa).toBeCloseTo(1e9 / 1e9, 9);
  });
  it("gives each rank the 4 GiB wasm heap or its share of the machine's memory", () => {
    expect(deviceMemory(hw, 2)).toBe(4 * 2 ** 30);
    expect(deviceMemory(hw, 8)).toBe(2 * 2 ** 30);
  });
  it("runs a collective as one exchange: wake-up + bytes / copy bandwidth, whatever the group size", () => {
    const t = collectiveTime("all_gather", 8, 4e9, 1, hw);
    expect(t.hops).toBe(1);
    expect(t.seconds).toBeCloseTo(hw.callOverhead + 20e-6 + 1, 9);
  });
  it("time-shares the cores: 4 ranks computing in step on 2 cores take twice as long as on 4", () => {
    const spec = loadSpecFile("test/cost/fixtures/linear2.lasp", []).spec!;
    const plan = compile(specFor(spec, 4, "lasp2", "lasp2h", 4096)).plan!;
    const two = predictPlan(plan, hw);
    const four = predictPlan(plan, localProfile({ ...M, cores: 4 }));
    expect(two.time.computeSeconds).toBeCloseTo(2 * four.time.computeSeconds, 9);
    expect(two.stepSeconds / four.stepSeconds).toBeGreaterThan(1.99);
  });
  it("gives a blocked rank's core to the ranks still computing (LASP-1's chain on 2 cores)", () => {
    const spec = loadSpecFile("test/cost/fixtures/linear2.lasp", []).spec!;
    const plan = compile(specFor(spec, 4, "lasp1", "lasp2h", 4096)).plan!;
    const two = predictPlan(plan, hw);
    const four = predictPlan(plan, localProfile({ ...M, cores: 4 }));
    // while the chain waits, fewer than 2 of the 4 ranks compute: those run at a whole core's speed
    expect(two.stepSeconds / four.stepSeconds).toBeLessThan(1.95);
    expect(two.stepSeconds / four.stepSeconds).toBeGreaterThan(1.5);
  });
  it("scales an op's modelled time by its calibration factor, and costs comm steps' own work per byte", () => {
    const cal = localProfile({ ...M, opScale: { la_intra: 2.5, xent: 4 }, commStepSecondsPerByte: 1e-9 });
    const w = { flops: 1e9, bytes: 4e6 };
    expect(stepSeconds("la_intra", w, cal, "fp32")).toBeCloseTo(2.5 * stepSeconds("la_intra", w, hw, "fp32"), 12);
    expect(stepSeconds("xent", w, cal, "fp32")).toBeCloseTo(4 * stepSeconds("xent", w, hw, "fp32"), 12);
    expect(stepSeconds("matmul", w, cal, "fp32")).toBe(stepSeconds("matmul", w, hw, "fp32"));
    expect(stepSeconds("comm_start", w, hw, "fp32")).toBe(0);
    expect(stepSeconds("comm_wait", w, cal, "fp32")).toBeCloseTo(4e-3, 12);
    expect(cal.sources.join(" ")).toMatch(/per-op calibration \(measured \/ modelled\): la_intra 2\.50, xent 4\.00/);
  });
  it("puts comm steps' own work on the rank's critical path: ring pays it per hop, in the step time", () => {
    const spec = loadSpecFile("test/cost/fixtures/linear2.lasp", []).spec!;
    const plan = compile(specFor(spec, 4, "ring", "lasp2h", 4096)).plan!;
    const base = predictPlan(plan, hw);
    const copies = predictPlan(plan, localProfile({ ...M, commStepSecondsPerByte: 1e-8 }));
    expect(copies.time.computeSeconds).toBeGreaterThan(base.time.computeSeconds);
    expect(copies.stepSeconds).toBeGreaterThan(base.stepSeconds);
  });
});
