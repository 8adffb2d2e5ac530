// Tensor backend selection: wasm (default, SIMD), the pure-JS cpu backend, tfjs-node(-gpu) when
// installed, WebGPU through Dawn (webgpu.ts). Asking for a backend that is not available is an
// error, never a silent fallback.
import * as tf from "@tensorflow/tfjs-core";

export type BackendName = "auto" | "wasm" | "cpu" | "tensorflow" | "webgpu";
export const BACKEND_NAMES: readonly BackendName[] = ["auto", "wasm", "cpu", "tensorflow", "webgpu"];

export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError";
}

async function tryWasm(): Promise<boolean> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  // a bundled lasp (bench/cpu-device) carries the backend's .wasm files in a folder of its own
  const dir = process.env["LASP_WASM_DIR"];
  if (dir !== undefined && dir !== "") wasm.setWasmPaths(dir.endsWith("/") ? dir : `${dir}/`);
  if (!(await tf.setBackend("wasm"))) return false;
  // the package's Slice copies its whole input per call (wasm-slice.ts)
  (await import("./wasm-slice.ts")).installWasmSlice();
  return true;
}

async function tryCpu(): Promise<boolean> {
  await import("@tensorflow/tfjs-backend-cpu");
  return tf.setBackend("cpu");
}

async function tryTensorflow(
  candidates: readonly string[] = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"],
): Promise<boolean> {
  // The package name is built at run time so bundlers and type-checkers do not require it.
  for (const name of candidates) {
    try {
      await import(name);
      if (await tf.setBackend("tensorflow")) return true;
    } catch {
      // not installed or libtensorflow missing: try the next one
    }
  }
  return false;
}

async function tryWebGPUQuietly(): Promise<boolean> {
  const { autoShouldTryWebGPU, startWebGPU } = await import("./webgpu.ts");
  if (!autoShouldTryWebGPU()) return false;
  return (await startWebGPU()).ok;
}

/**
 * Makes `name` the active tfjs backend of this thread and returns the name actually in use.
 * "auto" prefers tfjs-node-gpu (CUDA), then WebGPU where a GPU is likely (webgpu.ts:
 * autoShouldTryWebGPU; LASP_WEBGPU=1/0 forces), then tfjs-node, then wasm, then cpu.
 */
export async function initBackend(name: BackendName): Promise<string> {
  switch (name) {
    case "wasm":
      if (!(await tryWasm())) throw new BackendUnavailableError("--backend wasm: the wasm backend failed to initialise");
      break;
    case "cpu":
      if (!(await tryCpu())) throw new BackendUnavailableError("--backend cpu: the cpu backend failed to initialise");
      break;
    case "tensorflow":
      if (!(await tryTensorflow()))
        throw new BackendUnavailableError(
          "--backend tensorflow: @tensorflow/tfjs-node-gpu (or tfjs-node) is not installed or its libtensorflow is missing; " +
            "install it with `npm install @tensorflow/tfjs-node-gpu` on a machine that can download libtensorflow, or use --backend wasm",
        );
      break;
    case "webgpu": {
      const { startWebGPU } = await import("./webgpu.ts");
      const r = await startWebGPU();
      if (!r.ok) throw new BackendUnavailableError(`--backend webgpu: ${r.reason}`);
      break;
    }
    case "auto":
      if (
        !(await tryTensorflow(["@tensorflow/tfjs-node-gpu"])) &&
        !(await tryWebGPUQuietly()) &&
        !(await tryTensorflow(["@tensorflow/tfjs-node"])) &&
        !(await tryWasm()) &&
        !(await tryCpu())
      )
        throw new BackendUnavailableError("--backend auto: no tensor backend could be initialised");
      break;
    default:
      name satisfies never;
  }
  await tf.ready();
  return tf.getBackend();
}

/**
 * Gives back what this thread's backend holds outside the JS heap: the WebGPU device (after its queue
 * drains). Call it when the thread's tensor work is done; the wasm and cpu backends need nothing.
 */
export async function releaseBackend(): Promise<void> {
  if (tf.getBackend() !== "webgpu") return;
  const { stopWebGPU } = await import("./webgpu.ts");
  await stopWebGPU();
}
