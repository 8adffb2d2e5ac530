// WGSL source of a register-tiled float32 batched matmul (C = op(A) op(B), op = optional transpose),
// generated with the inner product fully unrolled so the driver keeps the accumulators in registers.
// Pure string generation: tested without a GPU; runs inside tfjs-backend-webgpu's shader preamble.

export interface TileConfig {
  /** Rows and columns of C one workgroup computes, and the K step staged in workgroup memory. */
  bm: number;
  bn: number;
  bk: number;
  /** Rows and columns of C one thread computes (multiples of 4). */
  tm: number;
  tn: number;
}

export const TILE_LARGE: TileConfig = { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 };
export const TILE_SMALL: TileConfig = { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };

export function workgroupSize(c: TileConfig): [number, number, number] {
  return [c.bn / c.tn, c.bm / c.tm, 1];
}

/** Throws on a configuration the generator cannot express (a programming error, not user input). */
export function checkTile(c: TileConfig): void {
  const [wx, wy] = workgroupSize(c);
  const threads = wx * wy;
  const ok =
    c.tm % 4 === 0 &&
    c.tn % 4 === 0 &&
    c.bm % c.tm === 0 &&
    c.bn % c.tn === 0 &&
    (c.bm * c.bk) % threads === 0 &&
    (c.bk * c.bn) % threads === 0 &&
    threads <= 256;
  if (!ok) throw new Error(`matmul-tiled: unsupported tile ${JSON.stringify(c)}`);
}

function loadA(c: TileConfig, transA: boolean, threads: number): string {
  const n = (c.bm * c.bk) / threads;
  // Consecutive threads read consecutive addresses of A's contiguous dimension.
  const mk = transA
    ? `let m = e % ${c.bm}u; let k = e / ${c.bm}u;`
    : `let m = e / ${c.bk}u; let k = e % ${c.bk}u;`;
  const addr = transA ? "aOff + gk * M + gm" : "aOff + gm * K + gk";
  return `
    for (var i = 0u; i < ${n}u; i++) {
      let e = tid + i * ${threads}u;
      ${mk}
      let gm = row0 + m; let gk = k0 + k;
      var v = 0.0;
      if (gm < M && gk < K) { v = A[${addr}]; }
      As[k * ${c.bm / 4}u + m / 4u][m % 4u] = v;
    }`;
}

function loadB(c: TileConfig, transB: boolean, threads: number): string {
  const n = (c.bk * c.bn) / threads;
  const nk = transB
    ? `let k = e % ${c.bk}u; let n = e / ${c.bk}u;`
    : `let n = e % ${c.bn}u; let k = e / ${c.bn}u;`;
  const addr = transB ? "bOff + gn * K + gk" : "bOff + gk * N + gn";
  return `
    for (var i = 0u; i < ${n}u; i++) {
      let e = tid + i * ${threads}u;
      ${nk}
      let gn = col0 + n; let gk = k0 + k;
      var v = 0.0;
      if (gn < N && gk < K) { v = B[${addr}]; }
      Bs[k * ${c.bn / 4}u + n / 4u][n % 4u] = v;
    }`;
}

const comps = ["x", "y", "z", "w"];

/**
 * Thread (tx, ty) owns rows (r4 * wy + ty) * 4 + rr and columns (c4 * wx + tx) * 4 + j: interleaved,
 * so neighbouring threads read neighbouring vec4s of workgroup memory (no bank conflicts).
 */
export function tiledMatmulWgsl(c: TileConfig, transA: boolean, transB: boolean): string {
  checkTile(c);
  const [wx, wy] = workgroupSize(c);
  const threads = wx * wy;
  const ra = c.tm / 4;
  const cb = c.tn / 4;
  const decl: string[] = [];
  const fmas: string[] = [];
  const stores: string[] = [];
  for (let r = 0; r < c.tm; r++)
    for (let q = 0; q < cb; q++) {
      decl.push(`var acc_${r}_${q} = vec4<f32>(0.0);`);
      fmas.push(`acc_${r}_${q} = fma(vec4<f32>(a${r >> 2}.${comps[r & 3]}), b${q}, acc_${r}_${q});`);
    }
  const aReads = Array.from({ length: ra }, (_, i) => `let a${i} = As[kb * ${c.bm / 4}u + ${i * wy}u + ty];`);
  const bReads = Array.from({ length: cb }, (_, q) => `let b${q} = Bs[kb * ${c.bn / 4}u + ${q * wx}u + tx];`);
  for (let r = 0; r < c.tm; r++) {
    const row = `row0 + (${(r >> 2) * wy}u + ty) * 4u + ${r & 3}u`;
    const body: string[] = [];
    for (let q = 0; q < cb; q++)
      for (let j = 0; j < 4; j++) {
        const col = `col0 + (${q * wx}u + tx) * 4u + ${j}u`;
        body.push(`{ let col = ${col}; if (col < N) { result[cOff + row * N + col] = acc_${r}_${q}.${comps[j]}; } }`);
      }
    stores.push(`{ let row = ${row}; if (row < M) {\n        ${body.join("\n        ")}\n      } }`);
  }
  return `
  var<workgroup> As : array<vec4<f32>, ${(c.bk * c.bm) / 4}>;
  var<workgroup> Bs : array<vec4<f32>, ${(c.bk * c.bn) / 4}>;

  fn main() {
    let M = u32(uniforms.M); let N = u32(uniforms.N); let K = u32(uniforms.K);
    let batch = workgroupId.z;
    let aOff = batch * u32(uniforms.aBatch);
    let bOff = batch * u32(uniforms.bBatch);
    let cOff = batch * M * N;
    let tx = localId.x; let ty = localId.y;
    let tid = localIndex;
    let row0 = workgroupId.y * ${c.bm}u;
    let col0 = workgroupId.x * ${c.bn}u;
    ${decl.join("\n    ")}
    for (var k0 = 0u; k0 < K; k0 += ${c.bk}u) {
      ${loadA(c, transA, threads)}
      ${loadB(c, transB, threads)}
      workgroupBarrier();
      for (var kb = 0u; kb < ${c.bk}u; kb++) {
        ${aReads.join("\n        ")}
        ${bReads.join("\n        ")}
        ${fmas.join("\n        ")}
      }
      workgroupBarrier();
    }
    ${stores.join("\n    ")}
  }
`;
}
