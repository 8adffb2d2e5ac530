// The one-layer op plan (no ranks launched): it validates against the plan schema for every kind, method,
// mask and layout; it went through the model pipeline's passes (lowering, overlap, liveness); its comm
// structure and predicted bytes follow ALGORITHM.md; bad configurations name the flag or tensor at fault.
import { describe, expect, it } from "vitest";
import { buildOpPlan, OP_PASSES } from "../../compiler/op/build.ts";
import { checkOpConfig, OP_METHODS, OP_KINDS, type OpConfig } from "../../compiler/op/config.ts";
import { opTensors, type TensorLike } from "../../compiler/op/inputs.ts";
import { PIPELINE } from "../../compiler/passes/pipeline.ts";
import { validatePlan } from "../../compiler/plan/validate.ts";
import type { Plan } from "../../compiler/plan/schema.ts";

const cfg = (over: Partial<OpConfig> = {}): OpConfig => ({
  kind: "linear-attention", ranks: 3, method: "lasp2", causal: true, block: 4, layout: "contiguous", overlap: true,
  H: 3, N: 23, dk: 4, dv: 3, lambdas: null, backward: true, ...over,
});

function plan(over: Partial<OpConfig> = {}): Plan {
  const r = buildOpPlan(cfg(over));
  if (r.plan === null) throw new Error(r.errors.map((e) => e.message).join("; "));
  return r.plan.plan;
}

const ops = (steps: Plan["forward"]) => steps.map((s) => s.op);

describe("op plan", () => {
  it("runs the model pipeline's passes in order, minus the model-only front and estimate", () => {
    const names = PIPELINE.map((p) => p.name).filter((n) => !["expand-layers", "build-backward", "estimate"].includes(n));
    expect(OP_PASSES.map((p) => p.name)).toEqual(names);
    expect(names).toEqual(expect.arrayContaining(["check-config", "partition", "insert-comm", "schedule-overlap", "liveness"]));
  });

  it("validates against the plan schema for every kind, method, mask and layout the op accepts", () => {
    let n = 0;
    for (const kind of OP_KINDS)
      for (const method of OP_METHODS[kind])
        for (const causal of [true, false])
          for (const layout of ["contiguous", "zigzag"] as const) {
            const c = cfg({ kind, method, causal, layout });
            if (checkOpConfig(c).length > 0) continue;
            const r = buildOpPlan(c);
            expect(r.errors).toEqual([]);
            expect(validatePlan(r.plan!.plan)).toEqual([]);
            n++;
          }
    expect(n).toBe(24 - 2 - 1); // lasp1: no bidirectional, no causal zigzag
  });

  it("LASP-2: one all_gather each way, la_intra overlapped with the forward one; --no-overlap waits at once", () => {
    const p = plan();
    expect(ops(p.forward)).toEqual(["la_state", "comm_start", "la_intra", "comm_wait", "la_prefix", "la_inter"]);
    expect(p.backward.filter((s) => s.op === "comm_start").map((s) => (s as { collective: string }).collective)).toEqual(["all_gather"]);
    const sync = plan({ overlap: false });
    const i = ops(sync.forward).indexOf("comm_start");
    expect(ops(sync.forward)[i + 1]).toBe("comm_wait");
  });

  it("liveness ran: inputs are freed after their last reader; outputs come from the job's capture", () => {
    const p = plan();
    const freed = [...p.forward, ...p.backward].flatMap((s) => s.free ?? []);
    expect(freed).toEqual(expect.arrayContaining(["q", "k", "v", "do", "L0.la.M"]));
    const r = buildOpPlan(cfg());
    expect(r.plan!.inputs).toEqual(["q", "k", "v", "do"]);
    expect(r.plan!.outputs).toEqual(["o", "dq", "dk", "dv"]);
    expect(buildOpPlan(cfg({ backward: false })).plan!.plan.backward).toEqual([]);
  });

  it("rank tokens keep every token (N = 23 on 3 ranks; 6 zigzag chunks)", () => {
    expect(plan().estimates.rankTokens).toEqual([8, 8, 7]);
    expect(plan({ layout: "zigzag" }).estimates.rankTokens).toEqual([4 + 3, 4 + 4, 4 + 4]);
    expect(plan({ N: 25, layout: "zigzag" }).estimates.rankTokens).toEqual([9, 8, 8]);
  });

  it("LASP-2 bytes do not change with N; LASP-2H bytes grow with N (section 5)", () => {
    const b = (o: Partial<OpConfig>) => plan(o).estimates.totals.commBytesForward;
    expect(b({ N: 23 })).toBe(2 * 3 * 4 * 3 * 4);
    expect(b({ N: 230 })).toBe(b({ N: 23 }));
    const sm = { kind: "softmax-attention", method: "lasp2h" } as const;
    expect(b({ ...sm, N: 230 })).toBeGreaterThan(5 * b({ ...sm, N: 23 }));
  });
});

describe("op configuration errors name the flag or tensor", () => {
  const subjects = (over: Partial<OpConfig>) => checkOpConfig(cfg(over)).map((e) => e.subject);
  it.each([
    ["a softmax method for linear attention", { method: "lasp2h" }, "--method"],
    ["a linear method for softmax attention", { kind: "softmax-attention", method: "lasp1" }, "--method"],
    ["ulysses with heads not divisible by ranks", { kind: "softmax-attention", method: "ulysses", H: 4 }, "--ranks"],
    ["lasp1 bidirectional", { method: "lasp1", causal: false }, "--causal"],
    ["lasp1 zigzag", { method: "lasp1", layout: "zigzag" }, "--layout"],
    ["fewer tokens than chunks", { N: 5, layout: "zigzag" }, "q"],
    ["decay without --causal", { causal: false, lambdas: [0.5, 0.5, 0.5] }, "decay"],
    ["decay of the wrong length", { lambdas: [0.5, 0.5] }, "decay"],
    ["decay outside (0, 1]", { lambdas: [0.5, 1.5, 0.5] }, "decay"],
    ["decay on softmax attention", { kind: "softmax-attention", method: "lasp2h", lambdas: [0.5, 0.5, 0.5] }, "decay"],
  ] as [string, Partial<OpConfig>, string][])("%s", (_name, over, subject) => {
    expect(subjects(over)).toContain(subject);
    expect(buildOpPlan(cfg(over)).plan).toBeNull();
  });
  it("a valid configuration has no error", () => {
    expect(subjects({})).toEqual([]);
  });
});

describe("op input tensors", () => {
  const f32 = (shape: number[], fill = 0.5): TensorLike => ({ dtype: "F32", shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });
  const good = (): Map<string, TensorLike> => new Map([["q", f32([2, 7, 4])], ["k", f32([2, 7, 4])], ["v", f32([2, 7, 3])]]);
  const with_ = (name: string, t: TensorLike | null) => {
    const m = good();
    if (t === null) m.delete(name);
    else m.set(name, t);
    return opTensors(m, "in.st");
  };
  it("reads q, k, v, decay and do with their dims", () => {
    const m = good();
    m.set("do", f32([2, 7, 3]));
    m.set("decay", f32([2], 0.75));
    const r = opTensors(m, "in.st");
    expect(r.errors).toEqual([]);
    expect(r.value).toMatchObject({ H: 2, N: 7, dk: 4, dv: 3, lambdas: [0.75, 0.75], backward: true });
    expect(opTensors(good(), "in.st").value).toMatchObject({ lambdas: null, backward: false });
  });
  it.each([
    ["a missing tensor", "v", null, /missing tensor 'v'/],
    ["a float64 tensor", "q", { dtype: "F64", shape: [2, 7, 4], data: new Float64Array(56) }, /'q' is F64; lasp op needs F32/],
    ["k not shaped like q", "k", f32([2, 6, 4]), /'k' has shape \[2, 6, 4\], expected q's \[2, 7, 4\]/],
    ["v with other heads", "v", f32([3, 7, 3]), /'v' has shape \[3, 7, 3\], expected \[2, 7, Dv\]/],
    ["q of rank 2", "q", f32([7, 4]), /'q' has shape \[7, 4\], expected \[H, N, d\]/],
    ["do not shaped like v", "do", f32([2, 7, 4]), /'do' has shape/],
    ["decay of the wrong length", "decay", f32([3]), /'decay' has shape \[3\], expected \[2\]/],
    ["an unknown tensor (a typo of do)", "dO", f32([2, 7, 3]), /unexpected tensor 'dO'/],
    ["a NaN", "k", f32([2, 7, 4], Number.NaN), /'k' holds NaN or Inf/],
  ] as [string, string, TensorLike | null, RegExp][])("%s", (_n, name, t, re) => {
    const r = with_(name, t);
    expect(r.value).toBeNull();
    expect(r.errors.map((e) => e.subject)).toContain(name);
    expect(r.errors.map((e) => e.message).join("\n")).toMatch(re);
    expect(r.errors.every((e) => e.message.startsWith("in.st: "))).toBe(true);
  });
});
