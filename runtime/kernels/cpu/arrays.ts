// Plain-JS kernels over Float32Arrays for the CPU backends. tfjs-backend-wasm runs many small ops far below
// memory speed (measured on [128, 64, 16] float32: exp 9.6 ms, where 10 ms, greater 4 ms, a strided slice
// 1.6 ms, a sum over axis 0 5 ms), and a kernel built from ten of them pays each one; one JS loop over the
// same data is 10-50x faster. These helpers read a tensor's values without a copy (a view of the wasm heap)
// and build a result tensor in place. On other backends (webgpu, tensorflow) the callers keep their tfjs
// form. LASP_JS_KERNELS=0 turns the JS kernels off (tests compare both forms).
import * as tf from "@tensorflow/tfjs-core";

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** Whether the JS kernels run on the active backend. */
export function jsKernelsActive(): boolean {
  if (process.env["LASP_JS_KERNELS"] === "0") return false;
  const name = tf.getBackend();
  return name === "wasm" || name === "cpu";
}

/**
 * New float32 tensors of `shapes`, zero-filled and then written by `fill(outs, ins)`, where `ins` are the
 * values of `inputs`. On wasm the outputs live in the backend heap and are written directly, and the inputs
 * are heap views taken after every output is allocated (an allocation may move the heap): `fill` must not
 * call tfjs. Elsewhere `ins` come from dataSync.
 */
export function computeMany(shapes: readonly (readonly number[])[], inputs: readonly tf.Tensor[], fill: (outs: Float32Array[], ins: Float32Array[]) => void): tf.Tensor[] {
  for (const t of inputs) if (t.dtype !== "float32") throw new Error(`JS kernel: input of dtype ${t.dtype}, float32 expected`);
  if (tf.getBackend() === "wasm") {
    const b = tf.backend() as unknown as WasmBackendLike;
    const infos = shapes.map((s) => b.makeOutput([...s], "float32"));
    const outs = infos.map((i) => b.typedArrayFromHeap(i).fill(0));
    fill(outs, inputs.map((t) => b.typedArrayFromHeap(t as unknown as tf.TensorInfo)));
    return infos.map((i) => tf.engine().makeTensorFromTensorInfo(i));
  }
  const outs = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  fill(outs, inputs.map((t) => t.dataSync() as Float32Array));
  return outs.map((o, i) => tf.tensor(o, [...shapes[i]!], "float32"));
}

/** computeMany with one output. */
export function compute(shape: readonly number[], inputs: readonly tf.Tensor[], fill: (out: Float32Array, ins: Float32Array[]) => void): tf.Tensor {
  return computeMany([shape], inputs, (outs, ins) => fill(outs[0]!, ins))[0]!;
}
