// timeRankOps (runtime/exec/calibrate.ts): one rank of a 3-rank plan run alone reports a time for every
// compute op of its steps (and only those), the comm steps' own work apart, and leaves no tensor behind.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { initBackend } from "../../runtime/backend/index.ts";
import { timeRankOps } from "../../runtime/exec/calibrate.ts";
import { smallSpec } from "./helpers.ts";

describe("timeRankOps", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });
  for (const over of [["parallel.linear=ring"], ["parallel.linear=lasp2", "parallel.softmax=ulysses", "model.hidden=36", "model.heads=3"]])
    it(`times every compute op of the last rank of a 3-rank plan (${over.join(" ")})`, async () => {
      const plan = compile(smallSpec(["parallel.sp=3", ...over])).plan!;
      const before = tf.memory().numTensors;
      const t = await timeRankOps(plan, 2, 2);
      expect(tf.memory().numTensors).toBe(before);
      const ops = new Set([...plan.forward, ...plan.backward, ...plan.gradSync].map((s) => s.op).filter((op) => op !== "comm_start" && op !== "comm_wait"));
      expect(new Set(t.perOp.keys())).toEqual(ops);
      for (const [op, sec] of t.perOp) expect(sec, op).toBeGreaterThan(0);
      const sum = [...t.perOp.values()].reduce((a, b) => a + b, 0);
      expect(t.commSeconds).toBeGreaterThan(0);
      // medians of parts need not add up exactly, but the ops are most of a step
      expect(sum + t.commSeconds).toBeLessThan(3 * t.stepSeconds);
      expect(sum).toBeGreaterThan(0.3 * t.stepSeconds);
    });
});
