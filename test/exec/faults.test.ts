// Failures end the run with an error that names the rank and the step, within a bound; a plan that
// breaks the schema is refused before anything runs; NaN is reported where it is produced; overlap
// scheduling changes timing only, never numbers.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { StepJobArgs, StepJobResult } from "../../runtime/exec/rank-entry.ts";
import { smallSpec } from "./helpers.ts";

const entry = new URL("../../runtime/exec/rank-entry.ts", import.meta.url);

function planOf(over: string[]): Plan {
  const r = compile(smallSpec(over));
  if (r.plan === null) throw new Error("compile failed");
  return r.plan;
}

function step(plan: Plan, extra: Partial<StepJobArgs> = {}, timeoutMs = 20_000): Promise<StepJobResult[]> {
  return launchRanks<StepJobResult>({
    sp: plan.mesh.sp,
    dp: plan.mesh.dp,
    entry,
    timeoutMs,
    args: { job: "step", plan, backend: "wasm", step: 0, ...extra } satisfies StepJobArgs,
  });
}

describe("faults and invariants of a running plan", () => {
  it("overlap on and off give identical numbers", async () => {
    const on = await step(planOf(["parallel.sp=3", "parallel.overlap=on"]));
    const off = await step(planOf(["parallel.sp=3", "parallel.overlap=off"]));
    expect(on[0]!.lossShare + on[1]!.lossShare + on[2]!.lossShare).toBe(off[0]!.lossShare + off[1]!.lossShare + off[2]!.lossShare);
    for (const [name, g] of on[0]!.grads) expect(Array.from(off[0]!.grads.get(name)!), name).toEqual(Array.from(g));
  });

  it("a rank that throws mid-step stops every rank with an error naming the rank and the step", async () => {
    const plan = planOf(["parallel.sp=3"]);
    const target = plan.backward[Math.floor(plan.backward.length / 2)]!;
    const t0 = Date.now();
    const err = await step(plan, { failAt: { rank: 1, stepId: target.id, how: "throw" } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/rank 1/);
    expect((err as Error).message).toContain(`step ${target.id}`);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it("a rank whose thread dies mid-step ends the run with an error naming it", async () => {
    const plan = planOf(["parallel.sp=2"]);
    const target = plan.forward.find((s) => s.op === "la_intra")!;
    const err = await step(plan, { failAt: { rank: 0, stepId: target.id, how: "exit" } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/rank 0/);
  });

  it("a plan edited into something invalid is refused with the schema path of the fault", async () => {
    const plan = planOf(["parallel.sp=2"]);
    const broken = structuredClone(plan) as unknown as { forward: { op: string; block?: unknown }[] };
    const i = broken.forward.findIndex((s) => s.op === "la_intra");
    broken.forward[i]!.block = -3;
    const err = await step(broken as unknown as Plan).catch((e: Error) => e);
    expect((err as Error).message).toContain("invalid plan");
    expect((err as Error).message).toContain(`/forward/${i}/block`);
  });

  it("NaN produced by a step is reported with its step and layer", async () => {
    const plan = planOf(["parallel.sp=2"]);
    const wq = plan.params.find((p) => p.layer === 0 && p.name.endsWith("wq"))!;
    const bad = new Float32Array(wq.shape.reduce((a, b) => a * b, 1)).fill(Number.NaN);
    const err = await step(plan, { weights: [[wq.name, bad]] }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/NaN or Inf/);
    expect((err as Error).message).toMatch(/layer 0/);
  });
});
