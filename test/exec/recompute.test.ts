// Activation recomputation (train { recompute on }): each layer's forward runs again at the start of its
// backward. The copies are the same ops on the same inputs, so the loss and every gradient are bit-identical
// to recompute off, for every SP method and layer variant; no collective is repeated; activations shrink.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { RECOMPUTED } from "../../compiler/passes/recompute.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { StepJobArgs, StepJobResult } from "../../runtime/exec/rank-entry.ts";
import { rankEntryUrl } from "../../runtime/exec/rank-entry-url.ts";
import { smallSpec, verify, worst } from "./helpers.ts";

function plan(over: readonly string[]): Plan {
  const r = compile(smallSpec(over));
  if (r.plan === null) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return r.plan;
}

const step = (p: Plan): Promise<StepJobResult[]> =>
  launchRanks<StepJobResult>({ sp: p.mesh.sp, dp: p.mesh.dp, entry: rankEntryUrl(), args: { job: "step", plan: p, backend: "wasm", step: 0 } satisfies StepJobArgs });

const starts = (p: Plan): string[] =>
  [...p.forward, ...p.backward, ...p.gradSync].filter((s) => s.op === "comm_start").map((s) => `${s.collective} ${s.group} ${s.bytesPerRank}`);

const CASES: [string, string[]][] = [
  ["lasp2 + lasp2h, 3 ranks", ["parallel.sp=3"]],
  ["lasp1 + ulysses, 2 ranks", ["parallel.sp=2", "parallel.linear=lasp1", "parallel.softmax=ulysses"]],
  ["ring, zigzag, 2 ranks", ["parallel.sp=2", "parallel.linear=ring", "parallel.softmax=ring", "parallel.layout=zigzag"]],
  ["GLA gates, 3 ranks", ["parallel.sp=3", "model.linear.kind=gla"]],
  ["Based (taylor2 features, short conv halo), 2 ranks", ["parallel.sp=2", "model.linear.kind=based"]],
];

describe("activation recomputation", () => {
  for (const [name, over] of CASES)
    it(`${name}: loss and gradients bit-identical to recompute off, the same collectives, fewer activations`, async () => {
      const off = plan(over);
      const on = plan([...over, "train.recompute=on"]);
      expect(starts(on)).toEqual(starts(off));
      const copies = on.backward.filter((s) => s.out.some((b) => b.endsWith(RECOMPUTED)));
      expect(copies.length).toBeGreaterThan(0);
      expect(on.estimates.totals.activationBytes).toBeLessThan(off.estimates.totals.activationBytes);
      expect(on.estimates.totals.flopsBackward).toBeGreaterThan(off.estimates.totals.flopsBackward);
      const [a, b] = [await step(off), await step(on)];
      for (let r = 0; r < a.length; r++) {
        expect(b[r]!.lossShare).toBe(a[r]!.lossShare);
        for (const [n, g] of a[r]!.grads) expect(b[r]!.grads.get(n), `rank ${r} ${n}`).toEqual(g);
        expect(b[r]!.bytes).toEqual(a[r]!.bytes);
      }
    });

  it("recompute 1 (the first layer only): copies in layer 0 alone, activations between off and on, bit-identical", async () => {
    const over = ["parallel.sp=3"];
    const [off, one, all] = [plan(over), plan([...over, "train.recompute=1"]), plan([...over, "train.recompute=on"])];
    const copyLayers = (p: Plan): Set<number | null> => new Set(p.backward.filter((s) => s.out.some((b) => b.endsWith(RECOMPUTED))).map((s) => s.layer));
    expect(copyLayers(one)).toEqual(new Set([0]));
    expect(copyLayers(all)).toEqual(new Set([0, 1]));
    // layer 0 keeps what it keeps under `on`, layer 1 what it keeps under `off`
    expect(one.estimates.layers[0]!.activationBytes).toBe(all.estimates.layers[0]!.activationBytes);
    expect(one.estimates.layers[1]!.activationBytes).toBe(off.estimates.layers[1]!.activationBytes);
    expect(one.estimates.totals.activationBytes).toBeLessThan(off.estimates.totals.activationBytes);
    expect(one.estimates.totals.activationBytes).toBeGreaterThan(all.estimates.totals.activationBytes);
    expect(starts(one)).toEqual(starts(off));
    const [a, b] = [await step(off), await step(one)];
    for (let r = 0; r < a.length; r++) {
      expect(b[r]!.lossShare).toBe(a[r]!.lossShare);
      for (const [n, g] of a[r]!.grads) expect(b[r]!.grads.get(n), `rank ${r} ${n}`).toEqual(g);
    }
  });

  it("lasp verify with recompute and accum 2: 2 SP ranks equal one device", async () => {
    const rep = await verify(2, ["train.recompute=on", "train.batch=4", "train.accum=2"]);
    expect(rep.bytes).toEqual([]);
    expect(worst(rep)).toBeLessThan(1e-4);
    expect(rep.ok).toBe(true);
  });
});
