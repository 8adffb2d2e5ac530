// Running our WebAssembly kernels on tfjs tensors. On the wasm backend the kernels import the backend's own
// heap: operands are read where the tensors live and results written into new tensors there (no copies),
// scratch comes from the backend's malloc. On the cpu backend (plain JS arrays) values are copied into the
// kernels' own memory and back.
import * as tf from "@tensorflow/tfjs-core";
import { kernelFor, ownHeap, type GemmHeap, type Kernel, type WasmMemory } from "./gemm.ts";

/** What we use of tfjs-backend-wasm: its heap (the emscripten module's memory and malloc) and tensors' offsets. */
interface WasmBackendLike {
  wasm?: { asm?: { memory?: WasmMemory }; _malloc?: (n: number) => number; _free?: (p: number) => void };
  getMemoryOffset?: (dataId: object) => number;
  makeOutput?: (shape: number[], dtype: "float32") => tf.TensorInfo;
}

/** Tensors as byte offsets into one memory, for one kernel call. */
export interface KernelSite {
  readonly heap: GemmHeap;
  readonly kernel: Kernel;
  /** byte offset of a float32 tensor's values (copied in first on the cpu backend) */
  offset(t: tf.Tensor): number;
  /** a new float32 result of `shape` (uninitialised) and its byte offset */
  output(shape: readonly number[]): { ptr: number; done: () => tf.Tensor };
  /** frees scratch and (cpu) the copies; call once, after the last done() */
  release(): void;
}

function tfjsHeap(b: WasmBackendLike): GemmHeap | null {
  const w = b.wasm;
  const mem = w?.asm?.memory;
  if (mem === undefined || w?._malloc === undefined || w._free === undefined) return null;
  if (b.getMemoryOffset === undefined || b.makeOutput === undefined) return null;
  const [malloc, free] = [w._malloc, w._free];
  const live: number[] = [];
  return {
    mem,
    alloc: (bytes) => {
      const p = malloc(bytes + 16) >>> 0;
      if (p === 0) throw new Error(`SIMD kernel: the wasm heap could not allocate ${bytes} bytes`);
      live.push(p);
      return (p + 15) & ~15;
    },
    release: () => {
      for (const p of live.splice(0)) free(p);
    },
  };
}

let heapFor: tf.KernelBackend | null = null;
let backendHeap: GemmHeap | null = null;

/** A site for one kernel call on the active backend (wasm: in place; otherwise copies through our own memory). */
export function kernelSite(): KernelSite {
  const backend = tf.backend();
  if (tf.getBackend() === "wasm") {
    if (heapFor !== backend) {
      heapFor = backend;
      backendHeap = tfjsHeap(backend as unknown as WasmBackendLike);
    }
    if (backendHeap !== null) {
      const wb = backend as unknown as WasmBackendLike;
      const heap = backendHeap;
      return {
        heap,
        kernel: kernelFor(heap.mem),
        offset: (t) => wb.getMemoryOffset!(t.dataId),
        output: (shape) => {
          const info = wb.makeOutput!([...shape], "float32");
          return { ptr: wb.getMemoryOffset!(info.dataId), done: () => tf.engine().makeTensorFromTensorInfo(info) };
        },
        release: () => heap.release(),
      };
    }
  }
  const own = ownHeap();
  const scope = own.scope();
  return {
    heap: scope,
    kernel: kernelFor(own.mem),
    offset: (t) => {
      const v = t.dataSync() as Float32Array;
      const p = scope.alloc(4 * v.length + 64); // + slack: kernels may over-read a partial tile
      new Float32Array(own.mem.buffer, p, v.length).set(v);
      return p;
    },
    output: (shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const p = scope.alloc(4 * n);
      return { ptr: p, done: () => tf.tensor(new Float32Array(own.mem.buffer, p, n).slice(), [...shape], "float32") };
    },
    release: () => scope.release(),
  };
}
