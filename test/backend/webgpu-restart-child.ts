// Child of webgpu-restart.test.ts (run with --expose-gc): start, compute with forced collections, stop,
// three times in one thread. Prints one line per round.
import * as tf from "@tensorflow/tfjs-core";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
for (let round = 0; round < 3; round++) {
  const r = await startWebGPU();
  if (!r.ok) throw new Error(r.reason);
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    gc();
    const a = tf.fill([16, 16], 0.5);
    sum = (await tf.sum(tf.matMul(a, a)).data())[0]!;
    await new Promise((res) => setTimeout(res, 2));
  }
  process.stdout.write(`round ${round}: ${sum}\n`);
  await stopWebGPU();
}
