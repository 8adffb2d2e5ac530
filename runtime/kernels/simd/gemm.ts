// Batched float32 matrix product on our own WebAssembly SIMD kernel (gemm-gen.ts), for the CPU backends:
// tfjs-backend-wasm runs only untransposed 2-D products on its fast (XNNPACK) path and every batched or
// transposed product at 0.5-1.6 GFLOP/s (bench/README.md), which is what every attention kernel is made of.
// The kernel runs on any WebAssembly memory: on the wasm backend it imports the backend's own heap and
// reads the operand tensors and writes the result tensor in place (no copies); elsewhere it has its own.
// Operands are read in place through strides, or first packed into register-tile panels (by the module's
// copy4, in wasm) when that is faster or needed: see packA / packB.
import { gemmModuleBytes, TILE, TRI, type Tri } from "./gemm-gen.ts";

// The WebAssembly JS API as used here (the project's TS lib has no DOM types, @types/node only a namespace stub)
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type I = number;
export interface Kernel {
  readonly packT: (X: I, P: I, K4: I, src: I, dst: I, sx: I, rowB: I, dx: I, panelB: I) => void;
  readonly mulRows: (R: I, J: I, P: I, src: I, m: I, dst: I) => void;
  readonly exp4: (N4: I, src: I, dst: I) => void;
  readonly scan: (R: I, J: I, L: I, src: I, dst: I, fac: I, hasFac: I, rev: I) => void;
  readonly gemm: (X: I, MP: I, NP: I, K: I, pa: I, pb: I, pc: I, sa: I, sb: I, ars: I, acs: I, aps: I, bks: I, bjs: I, beta: I, tri: I) => void;
  readonly copy4: (n0: I, n1: I, n2: I, n3: I, src: I, dst: I, s0: I, s1: I, s2: I, s3: I, d0: I, d1: I, d2: I, d3: I) => void;
}

/** A memory the kernel runs on, and scratch space in it (byte offsets, 16-aligned), released after each product. */
export interface GemmHeap {
  readonly mem: WasmMemory;
  alloc(bytes: number): number;
  release(): void;
}

let compiled: object | null | undefined;
const kernels = new WeakMap<WasmMemory, Kernel>();

function moduleOrNull(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WA.Module(gemmModuleBytes());
    } catch {
      compiled = null; // no WebAssembly SIMD in this runtime: callers use tf.matMul
    }
  }
  return compiled;
}

/** The module's functions instantiated on `mem` (one instance per memory). */
export function kernelFor(mem: WasmMemory): Kernel {
  let k = kernels.get(mem);
  if (k === undefined) {
    const inst = new WA.Instance(moduleOrNull()!, { env: { mem } });
    const e = inst.exports;
    k = { gemm: e["gemm"] as Kernel["gemm"], copy4: e["copy4"] as Kernel["copy4"], scan: e["scan"] as Kernel["scan"], mulRows: e["mulRows"] as Kernel["mulRows"], packT: e["packT"] as Kernel["packT"], exp4: e["exp4"] as Kernel["exp4"] };
    kernels.set(mem, k);
  }
  return k;
}

/** Whether the SIMD kernel compiled in this thread. */
export function gemmAvailable(): boolean {
  return moduleOrNull() !== null;
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;
/** inner-dimension slice: one slice of an A panel and of a B panel stay in cache */
const KC = 256;

/** A memory of our own with a bump allocator (the cpu backend, and the Float32Array entry point). */
export class OwnHeap implements GemmHeap {
  readonly mem = new WA.Memory({ initial: 16, maximum: 65536 });
  private top = 0;
  alloc(bytes: number): number {
    const p = this.top;
    this.top = roundUp(p + bytes, 16);
    const have = this.mem.buffer.byteLength;
    if (this.top > have) this.mem.grow(Math.ceil((this.top - have) / 65536));
    return p;
  }
  release(): void {
    this.top = 0;
  }
  /** A view of this heap whose release() frees only what was allocated after this call. */
  scope(): GemmHeap {
    const mark = this.top;
    return {
      mem: this.mem,
      alloc: (bytes) => this.alloc(bytes),
      release: () => {
        this.top = mark;
      },
    };
  }
}
let own: OwnHeap | undefined;
/** This thread's own kernel memory (when the backend's heap is not usable in place). */
export function ownHeap(): OwnHeap {
  own ??= new OwnHeap();
  return own;
}

export type { Tri } from "./gemm-gen.ts";

export interface GemmArgs {
  /** batch count of the result */
  readonly X: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is [XA, M, K] (or [XA, K, M] when transA); XA is X or 1 (broadcast) */
  readonly transA: boolean;
  readonly transB: boolean;
  readonly batchA: boolean;
  readonly batchB: boolean;
}

/** Whether to pack A into [K][MR] panels (else it is read in place); LASP_GEMM_PACK=0/1 forces, for benchmarks. */
function packA(g: GemmArgs): boolean {
  const f = process.env["LASP_GEMM_PACK"];
  if (f === "0" || f === "1") return f === "1";
  // a transposed A is already read MR floats at a time from one cache line per k
  return !g.transA && g.K >= 128 && g.N > 2 * TILE.nr;
}
function packB(g: GemmArgs): boolean {
  if (g.transB) return true; // the kernel reads B by rows
  const f = process.env["LASP_GEMM_PACK"];
  if (f === "0" || f === "1") return f === "1";
  return g.N >= 64 && g.M >= 256;
}

/**
 * C = op(A) op(B) (+ C when accumulate) on `heap`, skipping what a triangular op(A) or C makes zero or unwanted
 * (gemm-gen.ts TRI; square matrices and K <= 256 only, else the full product): A, B, C at byte offsets pa, pb, pc, C dense [X, M, N]. A and B are read in place
 * only when the over-read of a partial register tile stays inside the memory; otherwise packed. Scratch is
 * taken from `heap` and left for the caller's heap.release().
 */
export function gemmAt(heap: GemmHeap, g: GemmArgs, pa: number, pb: number, pc: number, accumulate = false, tri: Tri = "none"): void {
  const { X, M, N, K } = g;
  if (X * M * N === 0) return;
  const k = kernelFor(heap.mem);
  const { mr, nr } = TILE;
  if (K === 0) {
    if (!accumulate) new Uint8Array(heap.mem.buffer, pc, 4 * X * M * N).fill(0);
    return;
  }
  const mp = roundUp(M, mr);
  const np = roundUp(N, nr);
  const xa = g.batchA ? X : 1;
  const xb = g.batchB ? X : 1;
  const memBytes = heap.mem.buffer.byteLength;
  const slack = 4 * (mr * K + nr + 4);
  const pA = packA(g) || pa + 4 * xa * M * K + slack > memBytes;
  const pB = packB(g) || pb + 4 * xb * K * N + slack > memBytes;
  {
    // A: in place, or panels [XA][MP/MR][K][MR] (zero rows past M)
    let a = pa;
    let [ars, acs, aps, sa] = g.transA ? [4, 4 * M, 4 * mr, 4 * M * K] : [4 * K, 4, 4 * K * mr, 4 * M * K];
    if (pA) {
      const bytes = 4 * xa * mp * K;
      a = heap.alloc(bytes);
      if (M % mr !== 0) new Uint8Array(heap.mem.buffer, a, bytes).fill(0); // whole panels write every float
      const full = Math.floor(M / mr);
      // element (x, m = p MR + r, k): from x sa + m ars + k acs to x (MP K) + p (K MR) + k MR + r
      if (full > 0) k.copy4(xa, full, K, mr, pa, a, sa, mr * ars, acs, ars, 4 * mp * K, 4 * K * mr, 4 * mr, 4);
      if (M % mr !== 0) k.copy4(xa, 1, K, M % mr, pa + full * mr * ars, a + full * 4 * K * mr, sa, 0, acs, ars, 4 * mp * K, 0, 4 * mr, 4);
      [ars, acs, aps, sa] = [4, 4 * mr, 4 * K * mr, 4 * mp * K];
    }
    // B: in place (row-major [K][N]), or panels [XB][NP/NR][K][NR]
    let b = pb;
    let [bks, bjs, sb] = [4 * N, 4, 4 * K * N];
    if (pB) {
      const bytes = 4 * xb * np * K;
      b = heap.alloc(bytes);
      if (N % nr !== 0) new Uint8Array(heap.mem.buffer, b, bytes).fill(0); // whole panels write every float
      // element (x, k, n = p NR + c) of op(B): at x sb + k sk + n sn in the source
      const [sk, sn] = g.transB ? [4, 4 * K] : [4 * N, 4];
      const full = Math.floor(N / nr);
      if (full > 0 && g.transB && nr === 8 && K >= 4) {
        // rows of B^T are contiguous along k: 4x4 SIMD transposes for k < K4, the scalar copy for the rest
        const k4 = K - (K % 4);
        k.packT(xb, full, k4, pb, b, sb, sn, 4 * np * K, 4 * K * nr);
        if (k4 < K) k.copy4(xb, full, K - k4, nr, pb + k4 * sk, b + k4 * 4 * nr, sb, nr * sn, sk, sn, 4 * np * K, 4 * K * nr, 4 * nr, 4);
      } else if (full > 0) k.copy4(xb, full, K, nr, pb, b, sb, nr * sn, sk, sn, 4 * np * K, 4 * K * nr, 4 * nr, 4);
      if (N % nr !== 0) k.copy4(xb, 1, K, N % nr, pb + full * nr * sn, b + full * 4 * K * nr, sb, 0, sk, sn, 4 * np * K, 0, 4 * nr, 4);
      [bks, bjs, sb] = [4 * nr, 4 * K, 4 * np * K];
    }
    // C: straight into the result when it is whole tiles, else a padded [X][MP][NP] then compacted
    const direct = mp === M && np === N;
    const c = direct ? pc : heap.alloc(4 * X * mp * np);
    // triangular skipping (gemm-gen.ts TRI) needs square matrices and one K slice (it works in absolute k)
    const square = tri === "outLower" ? M === N : tri === "none" || M === K;
    const t = K <= KC && square ? TRI[tri] : TRI.none;
    if (accumulate && !direct) k.copy4(X, M, N, 1, pc, c, 4 * M * N, 4 * N, 4, 0, 4 * mp * np, 4 * np, 4, 0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      k.gemm(X, mp, np, kc, a + k0 * acs, b + k0 * bks, c, g.batchA ? sa : 0, g.batchB ? sb : 0, ars, acs, aps, bks, bjs, k0 === 0 && !accumulate ? 0 : 1, t);
    }
    if (!direct) k.copy4(X, M, N, 1, c, pc, 4 * mp * np, 4 * np, 4, 0, 4 * M * N, 4 * N, 4, 0);
  }
}

/**
 * C [X, M, N] = op(A) op(B) for plain arrays (the entry point the GEMM tests use; tensors go through
 * matmul.ts), or null when the kernel is unavailable. The result is a view into this thread's kernel
 * memory, valid only until the next call: copy it to keep it.
 */
export function gemm(a: Float32Array, b: Float32Array, g: GemmArgs): Float32Array | null {
  if (!gemmAvailable()) return null;
  const { X, M, N, K } = g;
  if (X * M * N === 0 || K === 0) return new Float32Array(X * M * N);
  const heap = ownHeap();
  const na = (g.batchA ? X : 1) * M * K;
  const nb = (g.batchB ? X : 1) * K * N;
  const slack = 4 * (TILE.mr * K + TILE.nr + 4);
  // operands and result stay allocated across gemmAt (its scratch goes above them, in a scope)
  const pa = heap.alloc(4 * na + slack);
  const pb = heap.alloc(4 * nb + slack);
  const pc = heap.alloc(4 * X * M * N);
  new Float32Array(heap.mem.buffer, pa, na).set(a.subarray(0, na));
  new Float32Array(heap.mem.buffer, pb, nb).set(b.subarray(0, nb));
  const scope = heap.scope();
  gemmAt(scope, g, pa, pb, pc);
  heap.release();
  return new Float32Array(heap.mem.buffer, pc, X * M * N);
}
