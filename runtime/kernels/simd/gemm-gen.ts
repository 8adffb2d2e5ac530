// Generates the batched float32 GEMM kernel as WebAssembly SIMD: C[x] = A[x] B[x] over packed operands.
// A is read in place through byte strides (row-major or transposed alike), B as row-major [K][ldb] rows,
// C is written to a padded row-major [MP][NP] buffer per batch (gemm.ts copies the valid part out).
// The micro-kernel keeps an MR x NR tile of C in MR*NR/4 v128 accumulators; per k it loads NR/4 vectors
// of B and splats MR scalars of A (f32x4 mul + add: Node 20's V8 has no relaxed-SIMD fma).
import { assemble, F32, Fn, I32, V128 } from "./asm.ts";

export interface GemmShape {
  /** rows of the register tile (A panel height) */
  readonly mr: number;
  /** columns of the register tile (B panel width), a multiple of 4 */
  readonly nr: number;
}

export const TILE: GemmShape = { mr: 4, nr: 8 };

/**
 * Triangular structure the GEMM may exploit (the `tri` argument), per batch matrix:
 *   outLower: C is square and only its lower triangle is wanted: tiles wholly above the diagonal get no
 *             products (zeros, or C unchanged when accumulating); the caller masks the rest;
 *   aLower:   op(A) is square and lower-triangular (zero above the diagonal): k stops at the tile's last row;
 *   aUpper:   op(A) is square and upper-triangular: k starts at the tile's first row.
 * Skipped terms are products with exact zeros, so the results equal the full product's.
 */
export const TRI = { none: 0, outLower: 1, aLower: 2, aUpper: 3 } as const;
export type Tri = keyof typeof TRI;

/**
 * gemm(X, MP, NP, K, pa, pb, pc, sa, sb, ars, acs, aps, bks, bjs, beta, tri): C[x][m][n] = beta C[x][m][n] +
 * sum_k A(x,m,k) B(x,k,n) (beta 0 or 1: 1 accumulates, so the caller can split K into cache-sized slices), where
 * in bytes, for m = i + r (i a multiple of MR, r < MR) and n = j + c (j a multiple of NR, c < NR):
 *   A(x,m,k) is at pa + x*sa + (i/MR)*aps + r*ars + k*acs
 *     row-major A: ars = 4K, acs = 4, aps = MR*4K; transposed: ars = 4, acs = 4M, aps = 4MR;
 *     packed panels [K][MR]: ars = 4, acs = 4MR, aps = 4K*MR
 *   B(x,k,n) is at pb + x*sb + j*bjs + k*bks + 4c
 *     row-major [K][N]: bjs = 4, bks = 4N; packed panels [K][NR]: bjs = 4K, bks = 4NR
 *   C(x,m,n) is at pc + (x*MP + m)*4NP + 4n
 * sa or sb = 0 broadcasts one matrix over the batch. K >= 1, MP % MR == 0, NP % NR == 0; rows m >= M and
 * columns n >= N of the tile read whatever lies there (the caller leaves slack) and are discarded.
 */
function gemmFn({ mr, nr }: GemmShape): Fn {
  const nv = nr / 4;
  const params = ["X", "MP", "NP", "K", "pa", "pb", "pc", "sa", "sb", "ars", "acs", "aps", "bks", "bjs", "beta", "tri"] as const;
  const f = new Fn("gemm", params.map((n) => [n, I32] as [string, typeof I32]));
  for (const n of ["x", "i", "j", "k", "paX", "pbX", "pcX", "paI", "ap", "bp", "crow", "ldc", "scB", "kLo", "kN"]) f.local(n);
  for (let r = 1; r < mr; r++) f.local(`o${r}`);
  const acc = (r: number, v: number): string => `c${r}_${v}`;
  for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.local(acc(r, v), V128);
  for (let v = 0; v < nv; v++) f.local(`b${v}`, V128);
  f.local("a", V128);
  f.get("NP").i32(2).i("shl").set("ldc");
  f.get("MP").get("NP").i("mul").i32(2).i("shl").set("scB");
  for (let r = 1; r < mr; r++) f.get("ars").i32(r).i("mul").set(`o${r}`);
  f.get("pa").set("paX").get("pb").set("pbX").get("pc").set("pcX");
  f.forRange("x", 0, "X", 1, () => {
    f.get("paX").set("paI");
    f.forRange("i", 0, "MP", mr, () => {
      f.forRange("j", 0, "NP", nr, () => {
        f.get("pcX").get("i").get("NP").i("mul").get("j").i("add").i32(2).i("shl").i("add").set("crow");
        f.get("beta").i("eqz");
        f.ifElse(
          () => {
            for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.v128Zero().set(acc(r, v));
          },
          () => {
            for (let r = 0; r < mr; r++) {
              for (let v = 0; v < nv; v++) f.get("crow").v128Load(16 * v).set(acc(r, v));
              if (r < mr - 1) f.inc("crow", "ldc");
            }
          },
        );
        // the k range of this tile: all of K, or what a triangular structure leaves (see TRI)
        f.i32(0).set("kLo").get("K").set("kN");
        f.get("tri").i32(TRI.outLower).i("eq");
        f.ifElse(
          () => {
            // a tile wholly above the diagonal (first column > last row): no products
            f.i32(0).get("kN").get("j").get("i").i32(mr - 1).i("add").i("gt_s").select().set("kN");
          },
          () => {},
        );
        f.get("tri").i32(TRI.aLower).i("eq");
        f.ifElse(
          () => {
            // rows i..i+MR-1 of a lower-triangular A have nonzeros only at k < i + MR
            f.get("i").i32(mr).i("add").set("kN");
            f.get("K").get("kN").get("K").get("kN").i("lt_s").select().set("kN");
          },
          () => {},
        );
        f.get("tri").i32(TRI.aUpper).i("eq");
        f.ifElse(
          () => {
            // ... of an upper-triangular A only at k >= i
            f.get("i").get("K").get("i").get("K").i("lt_s").select().set("kLo");
            f.get("K").get("kLo").i("sub").set("kN");
          },
          () => {},
        );
        f.get("paI").get("kLo").get("acs").i("mul").i("add").set("ap");
        f.get("pbX").get("j").get("bjs").i("mul").i("add").get("kLo").get("bks").i("mul").i("add").set("bp");
        f.get("kN").set("k");
        f.block(() => {
          f.get("k").i("eqz").brIf(0);
          f.loop(() => {
            for (let v = 0; v < nv; v++) f.get("bp").v128Load(16 * v).set(`b${v}`);
            for (let r = 0; r < mr; r++) {
              f.get("ap");
              if (r > 0) f.get(`o${r}`).i("add");
              f.load32Splat(0).set("a");
              for (let v = 0; v < nv; v++) f.get(acc(r, v)).get("a").get(`b${v}`).f32x4("mul").f32x4("add").set(acc(r, v));
            }
            f.inc("ap", "acs").inc("bp", "bks");
            f.get("k").i32(1).i("sub").tee("k").brIf(0);
          });
        });
        f.get("pcX").get("i").get("NP").i("mul").get("j").i("add").i32(2).i("shl").i("add").set("crow");
        for (let r = 0; r < mr; r++) {
          for (let v = 0; v < nv; v++) f.get("crow").get(acc(r, v)).v128Store(16 * v);
          if (r < mr - 1) f.inc("crow", "ldc");
        }
      });
      f.inc("paI", "aps");
    });
    f.inc("paX", "sa").inc("pbX", "sb").inc("pcX", "scB");
  });
  return f;
}

/**
 * copy4(n0, n1, n2, n3, src, dst, s0, s1, s2, s3, d0, d1, d2, d3): a strided 4-D copy of 32-bit words,
 * dst + i0 d0 + i1 d1 + i2 d2 + i3 d3 <- src + i0 s0 + ... (byte strides), for packing operands into
 * register-tile panels and transposing; bit-exact (i32 loads and stores). Every count >= 1.
 */
function copyFn(): Fn {
  const names = ["n0", "n1", "n2", "n3", "src", "dst", "s0", "s1", "s2", "s3", "d0", "d1", "d2", "d3"];
  const f = new Fn("copy4", names.map((n) => [n, I32] as [string, typeof I32]));
  for (const n of ["i0", "i1", "i2", "i3", "a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"]) f.local(n);
  f.get("src").set("a0").get("dst").set("b0");
  f.forRange("i0", 0, "n0", 1, () => {
    f.get("a0").set("a1").get("b0").set("b1");
    f.forRange("i1", 0, "n1", 1, () => {
      f.get("a1").set("a2").get("b1").set("b2");
      f.forRange("i2", 0, "n2", 1, () => {
        f.get("a2").set("a3").get("b2").set("b3");
        f.forRange("i3", 0, "n3", 1, () => {
          f.get("b3").get("a3").i32Load(0).i32Store(0);
          f.inc("a3", "s3").inc("b3", "d3");
        });
        f.inc("a2", "s2").inc("b2", "d2");
      });
      f.inc("a1", "s1").inc("b1", "d1");
    });
    f.inc("a0", "s0").inc("b0", "d0");
  });
  return f;
}

/**
 * scan(R, J, L, src, dst, fac, hasFac, rev): per row r < R of J items of L floats (row-major [R][J][L]),
 *   forward: dst[0] = 0, dst[j] = f(j-1) dst[j-1] + src[j-1]      (the state entering item j)
 *   reverse: dst[J-1] = 0, dst[j] = f(j+1) dst[j+1] + src[j+1]    (the gradient reaching item j)
 * with f(i) = fac[r J + i] (float32) when hasFac, else 1: prefixFold / suffixFold of the linear-attention
 * block states with a scalar decay per block, streamed (one multiply-add per float). J >= 1.
 */
function scanFn(): Fn {
  const names = ["R", "J", "L", "src", "dst", "fac", "hasFac", "rev"];
  const f = new Fn("scan", names.map((n) => [n, I32] as [string, typeof I32]));
  for (const n of ["r", "s", "row", "pd", "pp", "ps", "st", "l4", "e", "first", "pf"]) f.local(n);
  f.local("fs", F32);
  f.local("fv", V128);
  f.get("L").i32(4).i("mul").set("st");
  f.get("L").i32(-4).i("and").set("l4");
  f.forRange("r", 0, "R", 1, () => {
    // row = r * J * L * 4 (bytes); first item: 0 (forward) or J-1 (reverse)
    f.get("r").get("J").i("mul").get("st").i("mul").set("row");
    f.get("rev").ifElse(
      () => {
        f.get("J").i32(1).i("sub").get("st").i("mul").set("first");
      },
      () => {
        f.i32(0).set("first");
      },
    );
    // zero dst[first]
    f.get("dst").get("row").i("add").get("first").i("add").set("pd");
    f.forRange("e", 0, "L", 1, () => {
      f.get("pd").f32Const(0).f32Store(0);
      f.inc("pd", 4);
    });
    f.forRange("s", 1, "J", 1, () => {
      // prev item index p = rev ? J-s : s-1; item j = rev ? J-1-s : s
      f.get("rev").ifElse(
        () => {
          f.get("J").get("s").i("sub").set("pf");
        },
        () => {
          f.get("s").i32(1).i("sub").set("pf");
        },
      );
      f.get("dst").get("row").i("add").get("pf").get("st").i("mul").i("add").set("pp");
      f.get("src").get("row").i("add").get("pf").get("st").i("mul").i("add").set("ps");
      f.get("pp").get("st").i("sub").get("pp").get("st").i("add").get("rev").select().set("pd");
      f.get("hasFac").ifElse(
        () => {
          f.get("fac").get("r").get("J").i("mul").get("pf").i("add").i32(2).i("shl").i("add").f32Load(0).set("fs");
        },
        () => {
          f.f32Const(1).set("fs");
        },
      );
      f.get("fs").f32x4("splat").set("fv");
      f.forRange("e", 0, "l4", 4, () => {
        f.get("pd").get("fv").get("pp").v128Load(0).f32x4("mul").get("ps").v128Load(0).f32x4("add").v128Store(0);
        f.inc("pd", 16).inc("pp", 16).inc("ps", 16);
      });
      f.forRange("e", "l4", "L", 1, () => {
        f.get("pd").get("fs").get("pp").f32Load(0).f("mul").get("ps").f32Load(0).f("add").f32Store(0);
        f.inc("pd", 4).inc("pp", 4).inc("ps", 4);
      });
    });
  });
  return f;
}

/**
 * mulRows(R, J, P, src, m, dst): dst[r][j][p] = src[r][j][p] * m[r][p] for r < R, j < J, p < P (row-major,
 * float32): one weight pattern per row broadcast over its J items (the causal mask, or a head's decay tile).
 */
function mulRowsFn(): Fn {
  const names = ["R", "J", "P", "src", "m", "dst"];
  const f = new Fn("mulRows", names.map((n) => [n, I32] as [string, typeof I32]));
  for (const n of ["r", "j", "e", "p4", "ps", "pd", "pm", "mrow"]) f.local(n);
  f.get("P").i32(-4).i("and").set("p4");
  f.get("src").set("ps").get("dst").set("pd").get("m").set("mrow");
  f.forRange("r", 0, "R", 1, () => {
    f.forRange("j", 0, "J", 1, () => {
      f.get("mrow").set("pm");
      f.forRange("e", 0, "p4", 4, () => {
        f.get("pd").get("ps").v128Load(0).get("pm").v128Load(0).f32x4("mul").v128Store(0);
        f.inc("pd", 16).inc("ps", 16).inc("pm", 16);
      });
      f.forRange("e", "p4", "P", 1, () => {
        f.get("pd").get("ps").f32Load(0).get("pm").f32Load(0).f("mul").f32Store(0);
        f.inc("pd", 4).inc("ps", 4).inc("pm", 4);
      });
    });
    f.get("mrow").get("P").i32(2).i("shl").i("add").set("mrow");
  });
  return f;
}

/** exp's range: below EXP_LO the result is 0 (exactly); inputs are clamped to EXP_HI (finite result) */
export const EXP_LO = -87.33654;
export const EXP_HI = 88.72283;

/**
 * exp4(N4, src, dst): dst[i] = exp(src[i]) for i < N4 (a multiple of 4), four lanes at a time: n = round(x
 * log2 e), r = x - n ln2 (ln2 in two parts, Cody-Waite), exp(r) by its Taylor series to r^6 (|r| <= ln2/2:
 * truncation below 1.2e-8 relative), times 2^n by adding n to the exponent bits. Below EXP_LO: 0; above
 * EXP_HI: exp(EXP_HI), finite; NaN stays NaN. tfjs-wasm's Exp is a scalar expf at ~9 ns per value.
 */
function expFn(): Fn {
  const names = ["N4", "src", "dst"];
  const f = new Fn("exp4", names.map((n) => [n, I32] as [string, typeof I32]));
  for (const n of ["i", "ps", "pd"]) f.local(n);
  const consts: [string, number][] = [
    ["lo", EXP_LO], ["hi", EXP_HI], ["log2e", Math.LOG2E], ["ln2hi", 0.693359375], ["ln2lo", -2.12194440e-4],
    ["c6", 1 / 720], ["c5", 1 / 120], ["c4", 1 / 24], ["c3", 1 / 6], ["c2", 0.5], ["one", 1],
  ];
  for (const [n] of consts) f.local(n, V128);
  for (const n of ["v", "z", "x", "n", "r", "p"]) f.local(n, V128);
  for (const [n, c] of consts) f.f32Const(c).f32x4("splat").set(n);
  f.get("src").set("ps").get("dst").set("pd");
  f.forRange("i", 0, "N4", 4, () => {
    f.get("ps").v128Load(0).set("v");
    // lanes below the range give exactly 0 (a NaN lane compares false and stays NaN)
    f.get("v").get("lo").f32x4("lt").set("z");
    f.get("v").get("lo").f32x4("max").get("hi").f32x4("min").set("x");
    f.get("x").get("log2e").f32x4("mul").f32x4("nearest").set("n");
    f.get("x").get("n").get("ln2hi").f32x4("mul").f32x4("sub").get("n").get("ln2lo").f32x4("mul").f32x4("sub").set("r");
    f.get("c6");
    for (const c of ["c5", "c4", "c3", "c2", "one", "one"]) f.get("r").f32x4("mul").get(c).f32x4("add");
    f.set("p");
    f.get("pd");
    f.get("p").get("n").i32x4("truncSatF32").i32(23).i32x4("shl").i32x4("add");
    f.get("z").andNot();
    f.v128Store(0);
    f.inc("ps", 16).inc("pd", 16);
  });
  return f;
}

/** byte lanes of f32 lane i of the first (i < 4) or second (i >= 4) vector */
const f32Lanes = (...is: number[]): number[] => is.flatMap((i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]);

/**
 * packT(X, P, K4, src, dst, sx, rowB, dx, panelB): B^T packing with 4x4 SIMD transposes. Source rows n
 * (contiguous along k, rowB bytes apart), 8 rows per panel; for panel p < P and k < K4 (a multiple of 4):
 *   dst + x dx + p panelB + (k NR + c) 4  <-  src + x sx + (8p + c) rowB + 4k        (c < 8)
 * i.e. the [K][8] panel layout of gemm's packed B. NR must be 8.
 */
function packTFn(): Fn {
  const names = ["X", "P", "K4", "src", "dst", "sx", "rowB", "dx", "panelB"];
  const f = new Fn("packT", names.map((n) => [n, I32] as [string, typeof I32]));
  for (const n of ["x", "p", "k", "sX", "dX", "sP", "dP", "s", "d", "rows4"]) f.local(n);
  for (let i = 0; i < 8; i++) f.local(`v${i}`, V128);
  for (const n of ["a", "b", "c", "e"]) f.local(n, V128);
  f.get("rowB").i32(4).i("mul").set("rows4");
  f.get("src").set("sX").get("dst").set("dX");
  f.forRange("x", 0, "X", 1, () => {
    f.get("sX").set("sP").get("dX").set("dP");
    f.forRange("p", 0, "P", 1, () => {
      f.get("sP").set("s").get("dP").set("d");
      f.forRange("k", 0, "K4", 4, () => {
        // v_c = row 8p+c, k..k+3
        for (let c = 0; c < 8; c++) {
          f.get("s");
          if (c >= 4) f.get("rows4").i("add");
          if (c % 4 > 0) f.get("rowB").i32(c % 4).i("mul").i("add");
          f.v128Load(0).set(`v${c}`);
        }
        for (const half of [0, 1]) {
          const v = (i: number): string => `v${4 * half + i}`;
          f.get(v(0)).get(v(1)).shuffle(f32Lanes(0, 4, 1, 5)).set("a");
          f.get(v(0)).get(v(1)).shuffle(f32Lanes(2, 6, 3, 7)).set("b");
          f.get(v(2)).get(v(3)).shuffle(f32Lanes(0, 4, 1, 5)).set("c");
          f.get(v(2)).get(v(3)).shuffle(f32Lanes(2, 6, 3, 7)).set("e");
          // t_kk = (v0[kk], v1[kk], v2[kk], v3[kk]) goes to row k+kk of the panel, columns 4 half ..
          const t: [string, string, number[]][] = [
            ["a", "c", f32Lanes(0, 1, 4, 5)],
            ["a", "c", f32Lanes(2, 3, 6, 7)],
            ["b", "e", f32Lanes(0, 1, 4, 5)],
            ["b", "e", f32Lanes(2, 3, 6, 7)],
          ];
          t.forEach(([x, y, lanes], kk) => {
            f.get("d").get(x).get(y).shuffle(lanes).v128Store(32 * kk + 16 * half);
          });
        }
        f.inc("s", 16).inc("d", 128);
      });
      f.inc("sP", "rows4").inc("sP", "rows4").inc("dP", "panelB");
    });
    f.inc("sX", "sx").inc("dX", "dx");
  });
  return f;
}

export function gemmModuleBytes(shape: GemmShape = TILE): Uint8Array {
  return assemble([gemmFn(shape), copyFn(), scanFn(), mulRowsFn(), packTFn(), expFn()]);
}
