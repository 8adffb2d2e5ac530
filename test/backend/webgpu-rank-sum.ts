// A worker rank for webgpu-main-hold.test.ts: opens its own Dawn device, sums a tensor on it, closes it.
import * as tf from "@tensorflow/tfjs-core";
import type { RankContext } from "../../runtime/comm/context.ts";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";

export async function rankMain(ctx: RankContext): Promise<number> {
  const s = await startWebGPU();
  if (!s.ok) throw new Error(s.reason);
  const t = tf.fill([64], ctx.rank + 1);
  const sum = tf.sum(t);
  const v = (await sum.data())[0]!;
  tf.dispose([t, sum]);
  await stopWebGPU();
  return v;
}
