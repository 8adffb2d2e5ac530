// exp on our WebAssembly module (gemm-gen.ts exp4: four lanes at a time, relative error ~1e-7), for the
// softmax kernels' big exp(s - m) tiles: tfjs-wasm's Exp is a scalar expf at ~9 ns per value, which made
// it the largest single cost of a softmax tile. Differences from tf.exp: inputs below EXP_LO give 0 and
// inputs above EXP_HI give exp(EXP_HI) (finite), not Infinity. Other backends keep tf.exp.
import * as tf from "@tensorflow/tfjs-core";
import { EXP_HI, EXP_LO } from "./gemm-gen.ts";
import { kernelSite } from "./heap.ts";
import { simdMatMulActive } from "./matmul.ts";

/** exp(x) elementwise: on the wasm backend our SIMD kernel, in place in the heap; elsewhere tf.exp. */
export function expFast<T extends tf.Tensor>(x: T): T {
  if (tf.getBackend() !== "wasm" || !simdMatMulActive() || x.dtype !== "float32" || x.size === 0) return tf.exp(x);
  const site = kernelSite();
  try {
    const src = site.offset(x);
    const out = site.output(x.shape);
    const n4 = x.size & ~3;
    site.kernel.exp4(n4, src, out.ptr);
    if (n4 < x.size) {
      const buf = site.heap.mem.buffer;
      const a = new Float32Array(buf, src, x.size);
      const b = new Float32Array(buf, out.ptr, x.size);
      for (let i = n4; i < x.size; i++) b[i] = a[i]! < EXP_LO ? 0 : Math.exp(Math.min(a[i]!, EXP_HI));
    }
    return out.done() as T;
  } finally {
    site.release();
  }
}
