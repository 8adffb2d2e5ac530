// A rank of child.ts: opens this rank's WebGPU device (as rankMain does before a job), computes a small
// product on it, and reports the GPU number the device-tag layer gave the adapter.
import * as tf from "@tensorflow/tfjs-core";
import type { RankContext } from "../../../runtime/comm/context.ts";
import { setRankOnNode } from "../../../runtime/backend/vk-device-tag.ts";
import { startWebGPU, stopWebGPU } from "../../../runtime/backend/webgpu.ts";

export interface TagRankResult {
  gpu: number | null;
  device: string;
  flags: string[];
  /** sum of [[1,2],[3,4]] @ [[rank],[1]]: 4 * rank + 6 */
  product: number;
}

export async function rankMain(ctx: RankContext): Promise<TagRankResult> {
  setRankOnNode(ctx.rank);
  const r = await startWebGPU();
  if (!r.ok) throw new Error(r.reason);
  try {
    const p = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([ctx.rank, 1], [2, 1]));
    const product = (await tf.sum(p).data())[0]!;
    return { gpu: r.info.gpu, device: r.info.device, flags: r.info.flags, product };
  } finally {
    await stopWebGPU();
  }
}
