// Fused GPU kernels a GPU backend installs (runtime/backend/webgpu.ts) so the attention kernels can run one
// shader where they would otherwise issue a sequence of small tfjs ops (each ~1 ms to launch on WebGPU).
// The kernels never import a GPU backend: they ask here, and fall back to tfjs ops when nothing is installed
// or the active backend is another one.
import * as tf from "@tensorflow/tfjs-core";
import type { SaDims } from "./softmax-common.ts";

/** Shapes of one softmax-attention call (softmax-common.ts saDims, less the tfjs tile size) and the mask kind. */
export type SaGpuShape = Omit<SaDims, "block"> & { readonly causal: boolean };

export interface GpuKernels {
  /** the backend these kernels run on (tf.getBackend() name) */
  readonly backend: string;
  /**
   * whether the attention kernels take the fused paths (block scan, tile); false (LASP_WEBGPU_FUSED=0)
   * keeps tfjs ops there, for comparison. Token cumsums use scanBlocks either way (a correctness fix).
   */
  readonly fused: boolean;
  /**
   * blocks.ts blockScan on [R*J, dk, dv] states with per-item log-decays logA [R*J, gd] (gd 1 or dk) or
   * none: out[j] = exp(logA[j-1]) out[j-1] + s[j-1] forward (out[0] = 0), mirrored in reverse.
   */
  scanBlocks(states: tf.Tensor, logA: tf.Tensor | null, R: number, J: number, reverse: boolean): tf.Tensor;
  /**
   * diag.ts's masked decayed tile product without the [X, b, b] scores: a, b [X, b, da], cv [X, b, dc],
   * c [X, b, 1] cumulative log-decay or null: out[i] = sum_j w(i, j) (a_i . b_j) cv_j over j <= i (lower,
   * w = exp(min(c_i - c_j, 0))) or j >= i (upper, w = exp(min(c_j - c_i, 0))).
   */
  tileAttend(a: tf.Tensor, b: tf.Tensor, cv: tf.Tensor, c: tf.Tensor | null, upper: boolean): tf.Tensor;
  /** saForward in one dispatch; posQ, posK int32 [Cq], [Ck] */
  saForward(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, posQ: tf.Tensor, posK: tf.Tensor, s: SaGpuShape): { o: tf.Tensor3D; lse: tf.Tensor2D };
  /** saBackward in two dispatches (dq; dk and dv) */
  saBackward(
    q: tf.Tensor,
    k: tf.Tensor,
    v: tf.Tensor,
    o: tf.Tensor,
    lse: tf.Tensor,
    dO: tf.Tensor,
    posQ: tf.Tensor,
    posK: tf.Tensor,
    s: SaGpuShape,
  ): { dq: tf.Tensor3D; dk: tf.Tensor3D; dv: tf.Tensor3D };
}

let installed: GpuKernels | null = null;
let calls = 0;

export function setGpuKernels(k: GpuKernels | null): void {
  installed = k;
}

/** The GPU kernels for the active backend, or null; `fusedOnly`: null too when the fused paths are off. */
export function gpuKernels(fusedOnly = true): GpuKernels | null {
  if (installed === null || tf.getBackend() !== installed.backend || (fusedOnly && !installed.fused)) return null;
  calls++;
  return installed;
}

/** How many kernel calls took a fused GPU path in this thread (lets tests prove the path was taken). */
export function gpuKernelCalls(): number {
  return calls;
}
