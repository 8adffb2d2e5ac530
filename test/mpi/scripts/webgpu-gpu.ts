// Run under mpirun (test/mpi/webgpu.test.ts): each MPI process opens its WebGPU device after
// mpiRankContext, which numbers it from the launcher's local rank (vk-device-tag.ts), and posts the GPU
// number its adapter carries and a small product computed on it.
import * as tf from "@tensorflow/tfjs-core";
import { mpiFinalize, mpiRankContext } from "../../../runtime/comm/mpi/context.ts";
import { startWebGPU, stopWebGPU } from "../../../runtime/backend/webgpu.ts";

const ctx = await mpiRankContext(Number(process.argv[2]), 1, { timeoutMs: 30_000 });
const r = await startWebGPU();
if (!r.ok) throw new Error(r.reason);
const p = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([ctx.rank, 1], [2, 1]));
const product = (await tf.sum(p).data())[0]!;
ctx.post({ gpu: r.info.gpu, flags: r.info.flags, product });
await stopWebGPU();
await ctx.world.barrier("done");
mpiFinalize();
