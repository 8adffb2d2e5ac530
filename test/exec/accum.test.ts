// Gradient accumulation (train.accum): an optimizer step of k micro-batches gives the loss and the summed
// gradients of the same batch in one pass (accum 1), on one device and on SP ranks; the gradient all-reduce
// runs once per step (measured bytes), the attention's collectives once per micro-batch.
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { StepJobArgs, StepJobResult } from "../../runtime/exec/rank-entry.ts";
import { expectedBytes } from "../../runtime/exec/expected-bytes.ts";
import { rankEntryUrl } from "../../runtime/exec/rank-entry-url.ts";
import { smallSpec, verify, worst } from "./helpers.ts";

function plan(over: readonly string[]): Plan {
  const r = compile(smallSpec(["train.batch=4", ...over]));
  if (r.plan === null) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return r.plan;
}

async function step(p: Plan): Promise<StepJobResult[]> {
  return launchRanks<StepJobResult>({
    sp: p.mesh.sp,
    dp: p.mesh.dp,
    entry: rankEntryUrl(),
    args: { job: "step", plan: p, backend: "wasm", step: 0 } satisfies StepJobArgs,
  });
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-30);
}

describe("gradient accumulation", () => {
  it("accum 2 and 4 on 2 SP ranks: the loss and every summed gradient of accum 1, the gradient all-reduce sent once", async () => {
    const base = await step(plan(["parallel.sp=2"]));
    const loss = (rs: StepJobResult[]) => rs.reduce((s, r) => s + r.lossShare, 0);
    for (const accum of [2, 4]) {
      const p = plan(["parallel.sp=2", `train.accum=${accum}`]);
      const got = await step(p);
      expect(Math.abs(loss(got) - loss(base)) / loss(base)).toBeLessThan(1e-6);
      const names = [...base[0]!.grads.keys()];
      expect(names.length).toBeGreaterThan(5);
      for (const r of [0, 1])
        for (const n of names) expect(relErr(got[r]!.grads.get(n)!, base[0]!.grads.get(n)!), `rank ${r} ${n} accum ${accum}`).toBeLessThan(2e-5);
      // measured as the plan predicts: the attention's collectives once per micro-batch (each of 1/accum
      // the sequences, so the same bytes per step), the gradient all-reduce once (not accum times)
      for (const r of [0, 1]) expect(got[r]!.bytes).toEqual(expectedBytes(p, r, 0));
      expect(got[0]!.bytes.world.all_reduce).toBe(base[0]!.bytes.world.all_reduce);
      expect(got[0]!.bytes.world.all_reduce).toBeGreaterThan(0);
      expect(got[0]!.bytes.sp.all_gather).toBe(base[0]!.bytes.sp.all_gather);
    }
  });

  it("lasp verify with dp 2 x accum 2 on 2 SP ranks: every weight and the last micro-batch's activations equal one device's", async () => {
    // the device runs the batch as 4 micro-batches of 1; its last is the second replica's last
    const rep = await verify(2, ["train.batch=4", "train.accum=2", "parallel.dp=2"]);
    expect(rep.bytes).toEqual([]);
    expect(worst(rep)).toBeLessThan(1e-4);
    expect(rep.layers.length).toBe(2);
    expect(rep.ok).toBe(true);
  });

  it("lasp verify with accum 2 on 3 ranks (uneven N): the SP step equals the single-device step, bytes as planned", async () => {
    const rep = await verify(3, ["train.batch=4", "train.accum=2"]);
    expect(rep.bytes).toEqual([]);
    expect(worst(rep)).toBeLessThan(1e-4);
    expect(rep.ok).toBe(true);
  });
});
