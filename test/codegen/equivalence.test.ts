// The compiled module gives exactly the interpreter's numbers: one training step of the small hybrid spec
// on 2 worker ranks (launchRanks + rank-entry, job "step"), once interpreted and once through the
// generated module: loss shares, every gradient, captured layer outputs and bytes equal bit for bit.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { StepJobArgs, StepJobResult } from "../../runtime/exec/rank-entry.ts";
import { smallPlan, writeModule } from "./helpers.ts";

const ENTRY = new URL("../../runtime/exec/rank-entry.ts", import.meta.url);

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("compiled plan module vs the interpreter", () => {
  it("2 ranks, linear + softmax: loss, gradients, layer outputs and bytes bit for bit", async () => {
    const { plan, graph } = smallPlan(["parallel.sp=2"]);
    expect(plan.mesh.world).toBe(2);
    const mod = writeModule(plan, graph);
    const base: StepJobArgs = { job: "step", plan, backend: "wasm", step: 0, capture: ["x1", "x2"] };
    const run = (args: StepJobArgs) => launchRanks<StepJobResult>({ sp: plan.mesh.sp, dp: plan.mesh.dp, entry: ENTRY, args });
    const interp = await run(base);
    const compiled = await run({ ...base, compiledModule: mod.path });
    expect(compiled.length).toBe(2);
    for (let r = 0; r < 2; r++) {
      const a = interp[r]!;
      const b = compiled[r]!;
      expect(Number.isFinite(a.lossShare)).toBe(true);
      expect(Object.is(b.lossShare, a.lossShare)).toBe(true);
      expect([...b.grads.keys()]).toEqual(plan.params.map((p) => p.name));
      for (const [name, g] of a.grads) expect(bits(b.grads.get(name)!), `rank ${r} grad ${name}`).toEqual(bits(g));
      expect(b.captured.map(([n]) => n)).toEqual(a.captured.map(([n]) => n));
      b.captured.forEach(([n, c], i) => expect(bits(c.data), `rank ${r} ${n}`).toEqual(bits(a.captured[i]![1].data)));
      expect(b.bytes).toEqual(a.bytes);
    }
  });

  it("refuses a module generated from a different plan", async () => {
    const { plan } = smallPlan(["parallel.sp=2"]);
    const other = smallPlan(["parallel.sp=2", "model.ffn=32"]);
    const mod = writeModule(other.plan, null);
    const args: StepJobArgs = { job: "step", plan, backend: "wasm", step: 0, compiledModule: mod.path };
    await expect(launchRanks<StepJobResult>({ sp: 2, dp: 1, entry: ENTRY, args })).rejects.toThrow(/embedded plan differs/);
  });

  it("runs the module's own statements: with the embedding call deleted, the next step finds no x0", async () => {
    const { plan } = smallPlan(["parallel.sp=2"]);
    const mod = writeModule(plan, null);
    writeFileSync(mod.path, readFileSync(mod.path, "utf8").replace("await H.embed(S.f0, x);", ""));
    const args: StepJobArgs = { job: "step", plan, backend: "wasm", step: 0, compiledModule: mod.path };
    await expect(launchRanks<StepJobResult>({ sp: 2, dp: 1, entry: ENTRY, args })).rejects.toThrow(/buffer 'x0' is not defined/);
  });
});
