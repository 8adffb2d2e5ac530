// simulate(): predictions follow the plan's schedule and counts. Monotone where they must be, overlap
// hides LASP-2's gather, LASP-1 pays W-1 dependent hops, LASP-2 beats LASP-1 and ring at long N (the
// paper's claim), memory against a hand count, and what fits for the 2048K-token 1B model.
import { describe, expect, it } from "vitest";
import { loadSpecFile } from "../../dsl/index.ts";
import type { Spec } from "../../dsl/spec.ts";
import { compile } from "../../compiler/index.ts";
import { predictPlan, simulate, specFor } from "../../compiler/cost/simulate.ts";
import { memoryOf } from "../../compiler/cost/simulate-memory.ts";
import { H100_80GB, type HardwareProfile } from "../../compiler/cost/hardware/profile.ts";

function spec(file: string, sets: string[] = []): Spec {
  const l = loadSpecFile(file, sets);
  if (l.spec === undefined) throw new Error(`${file}: ${JSON.stringify(l.diagnostics)}`);
  return l.spec;
}
const TINY = spec("examples/tiny.lasp");
const LINEAR2 = spec("test/cost/fixtures/linear2.lasp");
const plan = (s: Spec) => {
  const r = compile(s);
  if (r.plan === null) throw new Error(JSON.stringify(r.diagnostics));
  return r.plan;
};
const row = (r: ReturnType<typeof simulate>, linear: string) => r.results.find((x) => x.linear === linear)!;

describe("memory per device", () => {
  it("matches a hand count for the tiny spec", () => {
    // vocab 256, hidden 64, 4 heads (kv 4), ffn 256 swiglu, 4 layers, rms norms, untied head
    const perLayer = 4 * 64 * 64 + 3 * 64 * 256 + 2 * 64;
    const params = 4 * perLayer + 256 * 64 + 64 * 256 + 64;
    expect(params).toBe(295488);
    const p = plan(TINY);
    const m = memoryOf(p, "fp32");
    expect(m.weights).toBe(4 * params);
    expect(m.grads).toBe(4 * params);
    expect(m.optimizer).toBe(8 * params); // AdamW m and v
    expect(m.activations).toBe(p.estimates.totals.activationBytes);
    // largest result in flight: the one gradient bucket (every weight, 4 bytes each), above LASP-2H's K and V
    // of the other rank's 128 tokens (B 8, 4 kv heads, dk = dv = 16)
    expect(4 * params).toBeGreaterThan(128 * 8 * 4 * (16 + 16) * 4);
    expect(m.commBuffers).toBe(4 * params);
    expect(m.total).toBe(16 * params + m.activations + m.commBuffers);
    const b = memoryOf(p, "bf16");
    expect(b.weights + b.grads + b.optimizer).toBe(16 * params); // bf16 weights and grads, fp32 master + m + v
    expect(b.activations).toBe(m.activations / 2);
  });
});

describe("the time model", () => {
  it("is never faster with less bandwidth or more latency", () => {
    const p = plan(specFor(TINY, 4, "lasp2", "lasp2h", 1024));
    const slow: HardwareProfile = {
      ...H100_80GB,
      intra: { bandwidth: H100_80GB.intra.bandwidth / 100, latency: H100_80GB.intra.latency * 10 },
    };
    const a = predictPlan(p, H100_80GB);
    const b = predictPlan(p, slow);
    expect(b.stepSeconds).toBeGreaterThan(a.stepSeconds);
    expect(b.time.commSeconds).toBeGreaterThan(a.time.commSeconds);
    expect(b.time.computeSeconds).toBeCloseTo(a.time.computeSeconds, 12);
  });
  it("hides LASP-2's all-gather behind the intra-chunk compute when overlap is on", () => {
    const on = predictPlan(plan(specFor(LINEAR2, 16, "lasp2", "lasp2h", 262144)), H100_80GB);
    const off = predictPlan(
      plan(specFor({ ...LINEAR2, parallel: { ...LINEAR2.parallel, overlap: false } }, 16, "lasp2", "lasp2h", 262144)),
      H100_80GB,
    );
    expect(on.time.computeSeconds).toBeCloseTo(off.time.computeSeconds, 9);
    expect(on.stepSeconds).toBeLessThan(off.stepSeconds);
    expect(on.time.exposedCommSeconds).toBeLessThan(off.time.exposedCommSeconds);
  });
  it("makes LASP-1 pay W-1 dependent hops: its forward is at least (W-1) x hop latency", () => {
    const lat = 1e-3; // a slow link makes the chain dominate
    const hw: HardwareProfile = { ...H100_80GB, intra: { ...H100_80GB.intra, latency: lat } };
    const W = 8;
    const lasp1 = predictPlan(plan(specFor(LINEAR2, W, "lasp1", "lasp2h", 8192)), hw);
    expect(lasp1.time.forward).toBeGreaterThan((W - 1) * lat);
    expect(lasp1.time.backward - lasp1.time.forward).toBeGreaterThan((W - 1) * lat);
  });
  it("uses the inter-node link once the SP group outgrows a node", () => {
    expect(row(simulate(LINEAR2, 8, H100_80GB, { seq: 65536, linear: ["lasp2"] }), "lasp2").interNode).toBe(false);
    expect(row(simulate(LINEAR2, 16, H100_80GB, { seq: 65536, linear: ["lasp2"] }), "lasp2").interNode).toBe(true);
  });
});

describe("LASP-2 vs LASP-1 and ring on linear layers (H100, 16 GPUs over 2 nodes)", () => {
  const short = simulate(LINEAR2, 16, H100_80GB, { seq: 16384 });
  const long = simulate(LINEAR2, 16, H100_80GB, { seq: 1048576 });
  it("LASP-2 is the fastest at long N", () => {
    expect(long.results[0]!.linear).toBe("lasp2");
    expect(row(long, "lasp2").stepSeconds).toBeLessThan(row(long, "lasp1").stepSeconds);
    expect(row(long, "lasp2").stepSeconds).toBeLessThan(row(long, "ring").stepSeconds);
  });
  it("its advantage over ring grows with N, and over LASP-1 grows with N in seconds", () => {
    expect(row(long, "ring").vsLasp2).toBeGreaterThan(row(short, "ring").vsLasp2);
    const gap = (r: typeof long) => row(r, "lasp1").stepSeconds - row(r, "lasp2").stepSeconds;
    expect(gap(short)).toBeGreaterThan(0);
    // LASP-1's chain carries each rank's attention compute (reference order), which grows with N:
    // 64x the tokens, more than 16x the gap
    expect(gap(long)).toBeGreaterThan(16 * gap(short));
    expect(row(long, "lasp1").time.exposedCommSeconds).toBeGreaterThan(16 * row(short, "lasp1").time.exposedCommSeconds);
  });
  it("ring moves bytes that grow with N; LASP-2's do not", () => {
    expect(row(long, "ring").time.commSeconds).toBeGreaterThan(10 * row(short, "ring").time.commSeconds);
    expect(row(long, "lasp2").time.commSeconds).toBeCloseTo(row(short, "lasp2").time.commSeconds, 6);
  });
});

describe("what fits: Linear-Llama3-1B at 2048K tokens", () => {
  const B1 = spec("examples/linear_llama3_1b.lasp");
  const fits = (gpus: number, dtype: "fp32" | "bf16") =>
    row(simulate(B1, gpus, H100_80GB, { seq: 2097152, dtype, linear: ["lasp2"] }), "lasp2");
  it("does not fit on 16 H100s, fits on 64 in bf16 mixed precision, not in plain fp32", { timeout: 120_000 }, () => {
    const few = fits(16, "bf16");
    expect(few.fits).toBe(false);
    const bf16 = fits(64, "bf16");
    expect(bf16.fits).toBe(true);
    expect(bf16.memoryBytesPerDevice).toBeLessThan(H100_80GB.memoryBytes);
    // fp32 activations of 32768 tokens a device (96 GiB by the plan) exceed 80 GB
    const fp32 = fits(64, "fp32");
    expect(fp32.fits).toBe(false);
    expect(fp32.memory.activations).toBeGreaterThan(90 * 2 ** 30);
  });
});

describe("gradient all-reduce placement", () => {
  it("overlaps with the backward when the plan starts it early (each start right after its gradients are written)", () => {
    const p = plan(specFor(LINEAR2, 16, "lasp2", "lasp2h", 65536));
    // overlap on: the buckets' starts are in the backward; the late variant puts them back before the waits
    const starts = p.backward.filter((s) => s.op === "comm_start" && s.phase === "grad_sync");
    expect(starts.length).toBeGreaterThan(0);
    expect(p.gradSync.every((s) => s.op === "comm_wait")).toBe(true);
    const late = { ...p, backward: p.backward.filter((s) => !starts.includes(s)), gradSync: [...starts, ...p.gradSync] };
    const lateP = predictPlan(late, H100_80GB);
    const early = predictPlan(p, H100_80GB);
    expect(early.time.commSeconds).toBeCloseTo(lateP.time.commSeconds, 9); // same transfers
    expect(early.stepSeconds).toBeLessThan(lateP.stepSeconds);
    expect(early.time.exposedCommSeconds).toBeLessThan(lateP.time.exposedCommSeconds);
  });
});

describe("gradient accumulation (train.accum)", () => {
  it("k micro-batches: the held ones cost their forward + backward, the all-reduce is paid once; activations shrink k-fold", () => {
    const base = spec("examples/linear_llama3_1b.lasp", ["train.batch=4", "train.seq=64K"]);
    const one = plan(base);
    const four = plan(spec("examples/linear_llama3_1b.lasp", ["train.batch=4", "train.seq=64K", "train.accum=4"]));
    const p1 = predictPlan(one, H100_80GB, "bf16");
    const p4 = predictPlan(four, H100_80GB, "bf16");
    const optimizer = p4.time.optimizer;
    expect(p4.stepSeconds).toBeCloseTo(3 * p4.time.backward + p4.time.gradSync + optimizer, 12);
    // the same tokens per step in smaller products and 4x the attention's collective calls: slower
    expect(p4.tokensPerSec).toBeLessThan(p1.tokensPerSec);
    expect(p4.time.computeSeconds).toBeGreaterThanOrEqual(p1.time.computeSeconds);
    expect(p4.memory.activations).toBeCloseTo(p1.memory.activations / 4, -3);
    // the running gradient sums, float32, on top
    expect(p4.memory.grads - p1.memory.grads).toBe(one.estimates.totals.paramCount * 4);
    const r = simulate(spec("examples/linear_llama3_1b.lasp", ["train.batch=4", "train.accum=4"]), 64, H100_80GB, { dtype: "bf16" });
    expect(r.accum).toBe(4);
  });
});

describe("the recompute lever in simulate", () => {
  it("a row that does not fit gets the same row with train.recompute on; rows that fit do not", () => {
    const rc = (s: Spec, on: boolean): Spec => ({ ...s, train: { ...s.train, recompute: on } });
    const off = predictPlan(plan(specFor(TINY, 2, "lasp2", "lasp2h", TINY.train.seq)), H100_80GB);
    const on = predictPlan(plan(rc(specFor(TINY, 2, "lasp2", "lasp2h", TINY.train.seq), true)), H100_80GB);
    expect(on.memoryBytesPerDevice).toBeLessThan(off.memoryBytesPerDevice);
    expect(on.stepSeconds).toBeGreaterThan(off.stepSeconds);
    // a device between the two: only recomputation makes the row fit
    const small: HardwareProfile = { ...H100_80GB, memoryBytes: (on.memoryBytesPerDevice + off.memoryBytesPerDevice) / 2 };
    const r = simulate(TINY, 2, small, { linear: ["lasp2"], softmax: ["lasp2h"] });
    expect(r.results[0]!.fits).toBe(false);
    expect(r.results[0]!.withRecompute).toMatchObject({ layers: TINY.model.layers.length, stepSeconds: on.stepSeconds, memoryBytesPerDevice: on.memoryBytesPerDevice, fits: true });
    expect(simulate(TINY, 2, H100_80GB, { linear: ["lasp2"], softmax: ["lasp2h"] }).results[0]!.withRecompute).toBeUndefined();
    expect(simulate(rc(TINY, true), 2, small, { linear: ["lasp2"], softmax: ["lasp2h"] }).results[0]!.withRecompute).toBeUndefined();
  });

  it("where recomputing every layer fits with room, the fewest layers that fit: N fits, N - 1 does not", () => {
    const L = TINY.model.layers.length;
    const at = (n: boolean | number) => predictPlan(plan({ ...specFor(TINY, 2, "lasp2", "lasp2h", TINY.train.seq), train: { ...TINY.train, recompute: n } }), H100_80GB);
    const off = at(false);
    const on = at(true);
    // room for a quarter of what recomputing every layer saves: some layers must be recomputed, not all
    const small: HardwareProfile = { ...H100_80GB, memoryBytes: off.memoryBytesPerDevice - 0.25 * (off.memoryBytesPerDevice - on.memoryBytesPerDevice) };
    const w = simulate(TINY, 2, small, { linear: ["lasp2"], softmax: ["lasp2h"] }).results[0]!.withRecompute!;
    expect(w.fits).toBe(true);
    const f = w.fewest!;
    expect(f.layers).toBeGreaterThanOrEqual(1);
    expect(f.layers).toBeLessThan(L);
    expect(f.fits).toBe(true);
    expect(f.memoryBytesPerDevice).toBeLessThanOrEqual(small.memoryBytes);
    expect(f.memoryBytesPerDevice).toBe(at(f.layers).memoryBytesPerDevice);
    expect(f.stepSeconds).toBeLessThan(w.stepSeconds);
    expect(f.stepSeconds).toBeGreaterThan(off.stepSeconds);
    const fewer = f.layers === 1 ? off : at(f.layers - 1);
    expect(fewer.memoryBytesPerDevice).toBeGreaterThan(small.memoryBytes);
  });
});
