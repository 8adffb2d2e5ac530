// The tiled WGSL matmul as tfjs's BatchMatMul kernel on the webgpu backend: shapes it cannot take
// (small products, batch shapes that broadcast both ways, non-float32) go to tfjs's own kernel.
// installTiledMatmul() swaps the kernel in; setTiledMatmulEnabled() lets benchmarks compare both.
import * as tf from "@tensorflow/tfjs-core";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { TILE_LARGE, TILE_SMALL, tiledMatmulWgsl, workgroupSize, type TileConfig } from "./matmul-tiled-source.ts";

export interface MatmulPlan {
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Element strides between batches of A and B (0: broadcast one matrix over the batch). */
  aBatch: number;
  bBatch: number;
  outShape: number[];
  tile: TileConfig;
}

/** Products smaller than this (M*N*K) stay on tfjs's kernel, whose launch setup is lighter. */
export const MIN_TILED_WORK = 64 * 64 * 64;
/** Below this many large tiles the GPU is under-filled: use the small tile. */
const LARGE_TILE_MIN_WORKGROUPS = 264;

const prod = (s: number[]): number => s.reduce((x, y) => x * y, 1);

let tileOverride: TileConfig | null = null;

/** Forces one tile configuration (benchmark sweeps); null restores the size heuristic. */
export function setTileOverride(c: TileConfig | null): void {
  tileOverride = c;
}

/** How the tiled kernel would run this product, or null when it should not. */
export function planTiledMatmul(
  aShape: number[],
  bShape: number[],
  transA: boolean,
  transB: boolean,
): MatmulPlan | null {
  if (aShape.length < 2 || bShape.length < 2) return null;
  const ar = aShape.length;
  const br = bShape.length;
  const M = transA ? aShape[ar - 1]! : aShape[ar - 2]!;
  const K = transA ? aShape[ar - 2]! : aShape[ar - 1]!;
  const Kb = transB ? bShape[br - 1]! : bShape[br - 2]!;
  const N = transB ? bShape[br - 2]! : bShape[br - 1]!;
  if (K !== Kb) return null;
  const aBatchShape = aShape.slice(0, -2);
  const bBatchShape = bShape.slice(0, -2);
  const aB = prod(aBatchShape);
  const bB = prod(bBatchShape);
  let batchShape: number[];
  try {
    batchShape = tf.backend_util.assertAndGetBroadcastShape(aBatchShape, bBatchShape);
  } catch {
    return null;
  }
  const batch = prod(batchShape);
  // Contiguous batches only: each operand is one matrix broadcast over the batch, or a full batch.
  if ((aB !== 1 && aB !== batch) || (bB !== 1 && bB !== batch)) return null;
  if (M * N * K < MIN_TILED_WORK || batch === 0) return null;
  const large = Math.ceil(M / TILE_LARGE.bm) * Math.ceil(N / TILE_LARGE.bn) * batch;
  return {
    M,
    N,
    K,
    batch,
    aBatch: aB === 1 ? 0 : M * K,
    bBatch: bB === 1 ? 0 : K * N,
    outShape: [...batchShape, M, N],
    tile: tileOverride ?? (large >= LARGE_TILE_MIN_WORKGROUPS ? TILE_LARGE : TILE_SMALL),
  };
}

function program(p: MatmulPlan, transA: boolean, transB: boolean) {
  const t = p.tile;
  return {
    variableNames: ["A", "B"],
    outputShape: [p.batch, p.M, p.N],
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(p.N / t.bn), Math.ceil(p.M / t.bm), p.batch] as [number, number, number],
    workgroupSize: workgroupSize(t),
    uniforms: "M : i32, N : i32, K : i32, aBatch : i32, bBatch : i32,",
    shaderKey: `laspTiledMatMul_${t.bm}_${t.bn}_${t.bk}_${t.tm}_${t.tn}_${transA}_${transB}`,
    getUserCode: () => tiledMatmulWgsl(t, transA, transB),
  };
}

/** Runs the tiled kernel: returns [batch, M, N] (caller reshapes). */
export function runTiledMatmul(
  backend: WebGPUBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  p: MatmulPlan,
  transA: boolean,
  transB: boolean,
): tf.TensorInfo {
  const uniforms = [p.M, p.N, p.K, p.aBatch, p.bBatch].map((v) => ({ type: "int32", data: [v] }));
  return backend.runWebGPUProgram(program(p, transA, transB), [a, b], "float32", uniforms);
}

let enabled = true;
let installed = false;
let calls = 0;

/** How many products ran on the tiled shader in this thread (lets tests prove the path was taken). */
export function tiledMatmulCalls(): number {
  return calls;
}

export function setTiledMatmulEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Matrices per dispatch: both this kernel and tfjs's put the batch in the dispatch's z, which WebGPU caps at
 * maxComputeWorkgroupsPerDimension (65535). On the H100, 1 rank at 256K tokens with block 64 made 16 heads x
 * 4096 blocks = 65536 per-block products, and tfjs refused the dispatch. Larger batches run in chunks.
 */
let maxBatch = 65535;

/** Lowers the chunk size (tests: the chunked path at small sizes); returns the previous one. */
export function setMaxBatchPerDispatch(n: number): number {
  const was = maxBatch;
  maxBatch = n;
  return was;
}

type Kernel = (args: { inputs: tf.NamedTensorInfoMap; backend: WebGPUBackend; attrs: tf.NamedAttrMap }) => tf.TensorInfo;
const kernelOf = (name: string): Kernel => {
  const k = tf.getKernel(name, "webgpu");
  if (k === undefined) throw new Error(`matmul-tiled: tfjs webgpu kernel ${name} is not registered`);
  return k.kernelFunc as unknown as Kernel;
};

/**
 * A batched product of more than maxBatch matrices, as products of at most maxBatch each, concatenated.
 * Each operand is one matrix broadcast over the batch or a full batch (as the model's products are).
 */
function chunkedMatmul(
  one: Kernel,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: tf.NamedAttrMap,
  backend: WebGPUBackend,
  batch: number,
  outShape: number[],
): tf.TensorInfo {
  const reshape = kernelOf("Reshape");
  const slice = kernelOf("Slice");
  const concat = kernelOf("Concat");
  const made: tf.TensorInfo[] = [];
  const as3 = (x: tf.TensorInfo): tf.TensorInfo => {
    const r = x.shape.length;
    const n = prod(x.shape.slice(0, -2));
    if (n !== 1 && n !== batch)
      throw new Error(
        `matMul: a batch of ${batch} products over ${maxBatch} per dispatch needs each operand's batch to be 1 or ${batch}, got [${x.shape}]`,
      );
    const y = reshape({ inputs: { x }, backend, attrs: { shape: [n, x.shape[r - 2]!, x.shape[r - 1]!] } });
    made.push(y);
    return y;
  };
  const a3 = as3(a);
  const b3 = as3(b);
  const part = (x: tf.TensorInfo, s: number, n: number): tf.TensorInfo => {
    if (x.shape[0] === 1) return x;
    const y = slice({ inputs: { x }, backend, attrs: { begin: [s, 0, 0], size: [n, x.shape[1]!, x.shape[2]!] } });
    made.push(y);
    return y;
  };
  const outs: tf.TensorInfo[] = [];
  for (let s = 0; s < batch; s += maxBatch) {
    const n = Math.min(maxBatch, batch - s);
    const pa = part(a3, s, n);
    const pb = part(b3, s, n);
    // operands of rank 3: the chunk's product is [n, M, N]
    outs.push(one({ inputs: { a: pa, b: pb }, backend, attrs }));
  }
  const joined = concat({ inputs: outs as unknown as tf.NamedTensorInfoMap, backend, attrs: { axis: 0 } });
  const out = reshape({ inputs: { x: joined }, backend, attrs: { shape: outShape } });
  // reshapes share their input's data (reference-counted): each intermediate is let go once
  for (const t of [...made, ...outs, joined]) backend.disposeData(t.dataId);
  return out;
}

/** Replaces the webgpu BatchMatMul kernel by one that uses the tiled shader where planTiledMatmul allows. */
export function installTiledMatmul(): void {
  if (installed) return;
  const original = tf.getKernel("BatchMatMul", "webgpu");
  const reshape = tf.getKernel("Reshape", "webgpu");
  if (original === undefined || reshape === undefined) throw new Error("matmul-tiled: tfjs webgpu kernels are not registered");
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const batchShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = prod(batchShape);
    if (batch > maxBatch) {
      const outShape = [
        ...batchShape,
        transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!,
        transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!,
      ];
      return chunkedMatmul(kernelFunc as unknown as Kernel, a, b, args.attrs ?? {}, args.backend as WebGPUBackend, batch, outShape);
    }
    const p = enabled && a.dtype === "float32" && b.dtype === "float32" ? planTiledMatmul(a.shape, b.shape, transposeA, transposeB) : null;
    if (p === null) return original.kernelFunc(args);
    const backend = args.backend as WebGPUBackend;
    const out = runTiledMatmul(backend, a, b, p, transposeA, transposeB);
    calls++;
    if (p.outShape.length === 3) return out;
    const r = reshape.kernelFunc({ inputs: { x: out }, backend, attrs: { shape: p.outShape } }) as tf.TensorInfo;
    backend.disposeData(out.dataId);
    return r;
  };
  tf.unregisterKernel("BatchMatMul", "webgpu");
  tf.registerKernel({ kernelName: "BatchMatMul", backendName: "webgpu", kernelFunc });
  installed = true;
}
