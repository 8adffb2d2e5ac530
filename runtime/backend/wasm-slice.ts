// tfjs-backend-wasm's Slice copies the WHOLE input out of the wasm heap (readSync -> HEAPU8.slice) before
// taking the part it returns, so every tf.slice costs O(input), not O(output): a blocked kernel that
// slices one key block at a time out of a long K paid that copy per tile (softmax attention over 4096
// gathered keys ran 4-5x slower than over 4 x 1024). This Slice reads the input through a view of the heap
// and copies only the slice, run by run of the innermost axis. Installed over the wasm backend's own
// kernel by initBackend (backend/index.ts); strings still go through the original.
import * as tf from "@tensorflow/tfjs-core";
import { slice_util, util, type KernelConfig, type KernelFunc, type TensorInfo } from "@tensorflow/tfjs-core";

type Typed = Float32Array | Int32Array | Uint8Array;

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Typed;
}

/** Copies x[begin : begin + size] of a row-major tensor (values `xv`, shape `shape`) into `out`. */
export function sliceInto(xv: Typed, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Typed): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = xv[0]!;
    return;
  }
  const strides = [...util.computeStrides([...shape]), 1];
  const run = size[rank - 1]!;
  const rows = size.slice(0, -1).reduce((a, b) => a * b, 1);
  if (run === 0 || rows === 0) return;
  // odometer over the leading axes; `src` is the flat offset of the run's first element
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let src = begin.reduce((a, b, i) => a + b * strides[i]!, 0);
  for (let r = 0, dst = 0; r < rows; r++, dst += run) {
    out.set(xv.subarray(src, src + run), dst);
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]!++;
      src += strides[ax]!;
      if (idx[ax]! < size[ax]!) break;
      src -= idx[ax]! * strides[ax]!;
      idx[ax] = 0;
    }
  }
}

let installed = false;

/** Replaces the wasm backend's Slice kernel with the O(output) one above (once per thread). */
export function installWasmSlice(): void {
  if (installed) return;
  const original = tf.getKernel("Slice", "wasm");
  if (original === undefined) return;
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const x = args.inputs["x"] as TensorInfo;
    if (x.dtype === "string") return original.kernelFunc(args) as TensorInfo;
    const backend = args.backend as unknown as WasmBackendLike;
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
    const out = backend.makeOutput(s, x.dtype);
    if (util.sizeFromShape(s) === 0) return out;
    // views only after makeOutput: an allocation may grow the heap and detach earlier ones
    sliceInto(backend.typedArrayFromHeap(x), x.shape, b, s, backend.typedArrayFromHeap(out));
    return out;
  };
  tf.unregisterKernel("Slice", "wasm");
  tf.registerKernel({ kernelName: "Slice", backendName: "wasm", kernelFunc } as KernelConfig);
  installed = true;
}
