// tf.matMul, with the product itself done by our WebAssembly SIMD kernel on the CPU backends (wasm, cpu),
// where tfjs runs batched and transposed products slowly; on every other backend (webgpu, tensorflow) it is
// tf.matMul. Same semantics as tf.matMul for float32 rank-2 and rank-3 operands (a batch of 1 broadcasts);
// anything else goes to tf.matMul. An optional addend is accumulated by the kernel itself (no separate add).
// LASP_GEMM=tfjs turns the kernel off (benchmarks and tests compare both).
import * as tf from "@tensorflow/tfjs-core";
import { gemmAt, gemmAvailable, type Tri } from "./gemm.ts";
import { kernelSite } from "./heap.ts";

type Tensor = tf.Tensor;

let cachedFor: tf.KernelBackend | null = null;
let cachedUse = false;

/** Whether the SIMD kernels (matMul, blockScan) run on the active backend. */
export function simdMatMulActive(): boolean {
  if (process.env["LASP_GEMM"] === "tfjs") return false;
  const backend = tf.backend();
  if (backend === cachedFor) return cachedUse;
  const name = tf.getBackend();
  cachedFor = backend;
  cachedUse = (name === "wasm" || name === "cpu") && gemmAvailable();
  return cachedUse;
}

export interface MatMulExtras {
  /** accumulated into the product by the kernel (same shape as the product) */
  readonly add?: Tensor | undefined;
  /**
   * triangular structure the SIMD kernel may skip (gemm-gen.ts TRI): "outLower": only the lower triangle of
   * each square product is wanted, tiles above the diagonal may come back as zeros (the caller masks);
   * "aLower" / "aUpper": op(a) is square and lower / upper triangular. Other backends compute everything.
   */
  readonly tri?: Tri;
}

/** op(a) op(b) (+ extras.add when given). */
export function matMul<T extends Tensor = Tensor>(a: Tensor, b: Tensor, transA = false, transB = false, extras: MatMulExtras = {}): T {
  const { add, tri = "none" } = extras;
  const viaTf = (): T => {
    const p = tf.matMul<T>(a, b, transA, transB);
    if (add === undefined) return p;
    const s = tf.add(p, add) as T;
    p.dispose();
    return s;
  };
  if (!simdMatMulActive() || a.dtype !== "float32" || b.dtype !== "float32" || a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) return viaTf();
  const batchOf = (t: Tensor): number => (t.rank === 3 ? t.shape[0] : 1);
  const [xa, xb] = [batchOf(a), batchOf(b)];
  if (xa !== xb && xa !== 1 && xb !== 1) return viaTf();
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [K2, N] = transB ? [bc, br] : [br, bc];
  if (K !== K2) throw new Error(`matMul: inner dimensions differ: [${a.shape}]${transA ? "^T" : ""} x [${b.shape}]${transB ? "^T" : ""}`);
  const X = Math.max(xa, xb);
  const g = { X, M, N, K, transA, transB, batchA: xa === X && a.rank === 3, batchB: xb === X && b.rank === 3 };
  const shape = a.rank === 3 || b.rank === 3 ? [X, M, N] : [M, N];
  if (add !== undefined && (add.dtype !== "float32" || add.shape.join() !== shape.join())) {
    throw new Error(`matMul: addend [${add.shape}] does not match the product [${shape}]`);
  }
  const site = kernelSite();
  try {
    const pa = site.offset(a);
    const pb = site.offset(b);
    const pAdd = add === undefined ? -1 : site.offset(add);
    const out = site.output(shape);
    const bytes = 4 * X * M * N;
    if (pAdd >= 0) new Uint8Array(site.heap.mem.buffer).copyWithin(out.ptr, pAdd, pAdd + bytes);
    gemmAt(site.heap, g, pa, pb, out.ptr, pAdd >= 0, tri);
    return out.done() as T;
  } finally {
    site.release();
  }
}
