// Softmax attention (kernels/softmax-attention*.ts) as three WGSL dispatches instead of ~12 tfjs ops per
// (query block, key block) tile: the forward (blocked online softmax, o and lse), the backward's dq, and its
// dk / dv (GQA groups summed in the kernel). Same semantics as the tfjs-op kernels: key j is visible to
// query i iff !causal or posK[j] <= posQ[i]; a row that sees no key gets o = 0 and lse = SA_EMPTY_LSE;
// the backward uses the final lse and D = rowsum(dO * o). A workgroup owns T rows (queries, or keys for
// dk / dv) and walks the other side T rows at a time through workgroup memory; every loop bound is a
// uniform (tfjs passes workgroupId through a private variable, which WGSL's uniformity analysis does not
// trust for barriers), so out-of-range rows are masked, not skipped.
import * as tf from "@tensorflow/tfjs-core";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import type { GpuKernels, SaGpuShape } from "../../kernels/gpu-hooks.ts";

const MAX_Y = 65535;
/** a masked score; anything above NEG / 2 is a visible one */
const NEG = "-3.0e38";

/** Largest tile edge (16, 8 or 4) whose workgroup memory fits `limit` bytes. */
export function softmaxTile(dk: number, dv: number, limit: number): number {
  for (const t of [16, 8, 4]) if ((2 * t * (dk + dv) + 2 * t * t + 4 * t) * 4 <= limit) return t;
  throw new Error(`softmax attention: head dims ${dk} / ${dv} need more workgroup memory than ${limit} bytes`);
}

const dispatch = (tiles: number, heads: number): [number, number, number] => [tiles, Math.min(heads, MAX_Y), Math.ceil(heads / MAX_Y)];

/** Loads rows r0.. of a [*, rows, w] input (row stride w, head offset base) into a T x w workgroup array. */
function load(dst: string, src: string, w: string, rows: string, base: string, r0: string, ok: string, scale = ""): string {
  return `
    for (var e = tid; e < T * ${w}; e += T * T) {
      let r = ${r0} + e / ${w};
      var x = 0.0;
      if (${ok} && r < ${rows}) { x = ${src}[(${base} + r) * ${w} + e % ${w}]${scale}; }
      ${dst}[e] = x;
    }`;
}

/**
 * Causal tile skipping: thread 0 finds whether any key of the tile [${k0}, +T) is visible to any query of
 * the tile [${q0}, +T) (min posK <= max posQ) and workgroupUniformLoad hands the answer to the whole
 * workgroup as a uniform value, so a hidden tile can be skipped without breaking barrier uniformity.
 */
function tileNeeded(q0: string, k0: string): string {
  return `
      if (tid == 0) {
        var qmax = -2147483647;
        for (var r = 0; r < T; r++) { if (${q0} + r < cq) { qmax = max(qmax, PQ[${q0} + r]); } }
        var kmin = 2147483647;
        for (var r = 0; r < T; r++) { if (${k0} + r < ck) { kmin = min(kmin, PK[${k0} + r]); } }
        needW = select(0, 1, uniforms.causal == 0 || kmin <= qmax);
      }
      let need = workgroupUniformLoad(&needW);
      workgroupBarrier();
      if (need == 0) { continue; }`;
}

const header = (T: number, dk: number, dv: number, groups: number): string => `
  const T = ${T};
  const DK = ${dk};
  const DV = ${dv};
  const G = ${groups};
  var<workgroup> needW : i32;`;

/** The start of a kernel that owns T query rows of head h (forward, dq): indices and the scaled Q tile. */
const queryTile = (): string => `
    let cq = uniforms.cq;
    let ck = uniforms.ck;
    let h = i32(workgroupId.y + workgroupId.z * ${MAX_Y}u);
    let live = h < uniforms.bh;
    let kv = h / G;
    let i0 = i32(workgroupId.x) * T;
    let tid = i32(localIndex);
    let ti = tid / T;
    let tj = tid % T;
    let gi = i0 + ti;
    ${load("Qs", "Q", "DK", "cq", "h * cq", "i0", "live", " * uniforms.scale")}`;

/**
 * The loop over key tiles of a query-tile kernel (forward, dq), up to the visibility of key gj to query gi:
 * skips hidden tiles, loads the K and V tile. The caller's body follows and closes the loop.
 */
const keyTileLoop = (): string => `
    for (var j0 = 0; j0 < ck; j0 += T) {${tileNeeded("i0", "j0")}
      workgroupBarrier();
      ${load("Ks", "K", "DK", "ck", "kv * ck", "j0", "live")}
      ${load("Vs", "V", "DV", "ck", "kv * ck", "j0", "live")}
      workgroupBarrier();
      let gj = j0 + tj;
      var vis = live && gi < cq && gj < ck;
      if (vis && uniforms.causal != 0) { vis = PK[gj] <= pq; }`;

// causal is a uniform (not a compile-time branch): the positions must stay referenced, or the pipeline's
// automatic layout drops their bindings and tfjs's bind group no longer matches it
export function forwardWgsl(T: number, dk: number, dv: number, groups: number): string {
  const nacc = Math.ceil(dv / T);
  return `${header(T, dk, dv, groups)}
  var<workgroup> Qs : array<f32, ${T * dk}>;
  var<workgroup> Ks : array<f32, ${T * dk}>;
  var<workgroup> Vs : array<f32, ${T * dv}>;
  var<workgroup> Ss : array<f32, ${T * T}>;

  fn main() {
${queryTile()}
    var pq = 0;
    if (live && gi < cq) { pq = PQ[gi]; }
    var m = -1.0e30;
    var l = 0.0;
    var acc : array<f32, ${nacc}>;
    for (var k = 0; k < ${nacc}; k++) { acc[k] = 0.0; }
${keyTileLoop()}
      var s = ${NEG};
      if (vis) {
        s = 0.0;
        for (var d = 0; d < DK; d++) { s = fma(Qs[ti * DK + d], Ks[tj * DK + d], s); }
      }
      Ss[ti * T + tj] = s;
      workgroupBarrier();
      var rowmax = ${NEG};
      for (var jj = 0; jj < T; jj++) { rowmax = max(rowmax, Ss[ti * T + jj]); }
      if (rowmax > ${NEG} * 0.5) {
        let mn = max(m, rowmax);
        let corr = exp(m - mn);
        for (var k = 0; k < ${nacc}; k++) { acc[k] = acc[k] * corr; }
        var psum = 0.0;
        for (var jj = 0; jj < T; jj++) {
          let sv = Ss[ti * T + jj];
          if (sv > ${NEG} * 0.5) {
            let p = exp(sv - mn);
            psum = psum + p;
            for (var k = 0; k < ${nacc}; k++) {
              let col = tj + k * T;
              if (col < DV) { acc[k] = fma(p, Vs[jj * DV + col], acc[k]); }
            }
          }
        }
        l = l * corr + psum;
        m = mn;
      }
    }
    if (live && gi < cq) {
      let lc = max(l, 1.0e-30);
      let row = (h * cq + gi) * (DV + 1);
      for (var k = 0; k < ${nacc}; k++) {
        let col = tj + k * T;
        if (col < DV) { result[row + col] = acc[k] / lc; }
      }
      if (tj == 0) { result[row + DV] = m + log(lc); }
    }
  }
`;
}

export function dqWgsl(T: number, dk: number, dv: number, groups: number): string {
  const nacc = Math.ceil(dk / T);
  return `${header(T, dk, dv, groups)}
  var<workgroup> Qs : array<f32, ${T * dk}>;
  var<workgroup> Os : array<f32, ${T * dv}>;
  var<workgroup> Ks : array<f32, ${T * dk}>;
  var<workgroup> Vs : array<f32, ${T * dv}>;
  var<workgroup> Ss : array<f32, ${T * T}>;

  fn main() {
${queryTile()}
    ${load("Os", "DO", "DV", "cq", "h * cq", "i0", "live")}
    var pq = 0;
    var lse = 0.0;
    var dd = 0.0;
    if (live && gi < cq) { pq = PQ[gi]; lse = LSE[h * cq + gi]; dd = DD[h * cq + gi]; }
    var acc : array<f32, ${nacc}>;
    for (var k = 0; k < ${nacc}; k++) { acc[k] = 0.0; }
${keyTileLoop()}
      var ds = 0.0;
      if (vis) {
        var s = 0.0;
        for (var d = 0; d < DK; d++) { s = fma(Qs[ti * DK + d], Ks[tj * DK + d], s); }
        var dp = 0.0;
        for (var d = 0; d < DV; d++) { dp = fma(Os[ti * DV + d], Vs[tj * DV + d], dp); }
        ds = exp(min(s - lse, 0.0)) * (dp - dd);
      }
      Ss[ti * T + tj] = ds;
      workgroupBarrier();
      for (var jj = 0; jj < T; jj++) {
        let w = Ss[ti * T + jj];
        for (var k = 0; k < ${nacc}; k++) {
          let col = tj + k * T;
          if (col < DK) { acc[k] = fma(w, Ks[jj * DK + col], acc[k]); }
        }
      }
    }
    if (live && gi < cq) {
      for (var k = 0; k < ${nacc}; k++) {
        let col = tj + k * T;
        if (col < DK) { result[(h * cq + gi) * DK + col] = acc[k] * uniforms.scale; }
      }
    }
  }
`;
}

export function dkdvWgsl(T: number, dk: number, dv: number, groups: number): string {
  const nk = Math.ceil(dk / T);
  const nv = Math.ceil(dv / T);
  return `${header(T, dk, dv, groups)}
  var<workgroup> Ks : array<f32, ${T * dk}>;
  var<workgroup> Vs : array<f32, ${T * dv}>;
  var<workgroup> Qs : array<f32, ${T * dk}>;
  var<workgroup> Os : array<f32, ${T * dv}>;
  var<workgroup> Ps : array<f32, ${T * T}>;
  var<workgroup> Ds : array<f32, ${T * T}>;
  var<workgroup> Ls : array<f32, ${T}>;
  var<workgroup> Rs : array<f32, ${T}>;
  var<workgroup> Pos : array<i32, ${T}>;

  fn main() {
    let cq = uniforms.cq;
    let ck = uniforms.ck;
    let kv = i32(workgroupId.y + workgroupId.z * ${MAX_Y}u);
    let live = kv < uniforms.bhkv;
    let j0 = i32(workgroupId.x) * T;
    let tid = i32(localIndex);
    let ti = tid / T;
    let tj = tid % T;
    let gj = j0 + ti;
    ${load("Ks", "K", "DK", "ck", "kv * ck", "j0", "live")}
    ${load("Vs", "V", "DV", "ck", "kv * ck", "j0", "live")}
    var pk = 0;
    if (live && gj < ck) { pk = PK[gj]; }
    var dkacc : array<f32, ${nk}>;
    var dvacc : array<f32, ${nv}>;
    for (var k = 0; k < ${nk}; k++) { dkacc[k] = 0.0; }
    for (var k = 0; k < ${nv}; k++) { dvacc[k] = 0.0; }
    for (var g = 0; g < G; g++) {
      let h = kv * G + g;
      for (var i0 = 0; i0 < cq; i0 += T) {${tileNeeded("i0", "j0")}
        workgroupBarrier();
        ${load("Qs", "Q", "DK", "cq", "h * cq", "i0", "live", " * uniforms.scale")}
        ${load("Os", "DO", "DV", "cq", "h * cq", "i0", "live")}
        if (tid < T) {
          let r = i0 + tid;
          var lse = 0.0;
          var dd = 0.0;
          var p = 0;
          if (live && r < cq) { lse = LSE[h * cq + r]; dd = DD[h * cq + r]; p = PQ[r]; }
          Ls[tid] = lse;
          Rs[tid] = dd;
          Pos[tid] = p;
        }
        workgroupBarrier();
        let gi = i0 + tj;
        var vis = live && gi < cq && gj < ck;
        if (vis && uniforms.causal != 0) { vis = pk <= Pos[tj]; }
        var pr = 0.0;
        var ds = 0.0;
        if (vis) {
          var s = 0.0;
          for (var d = 0; d < DK; d++) { s = fma(Qs[tj * DK + d], Ks[ti * DK + d], s); }
          var dp = 0.0;
          for (var d = 0; d < DV; d++) { dp = fma(Os[tj * DV + d], Vs[ti * DV + d], dp); }
          pr = exp(min(s - Ls[tj], 0.0));
          ds = pr * (dp - Rs[tj]);
        }
        Ps[ti * T + tj] = pr;
        Ds[ti * T + tj] = ds;
        workgroupBarrier();
        for (var jj = 0; jj < T; jj++) {
          let pw = Ps[ti * T + jj];
          let dw = Ds[ti * T + jj];
          for (var k = 0; k < ${nv}; k++) {
            let col = tj + k * T;
            if (col < DV) { dvacc[k] = fma(pw, Os[jj * DV + col], dvacc[k]); }
          }
          for (var k = 0; k < ${nk}; k++) {
            let col = tj + k * T;
            if (col < DK) { dkacc[k] = fma(dw, Qs[jj * DK + col], dkacc[k]); }
          }
        }
      }
    }
    if (live && gj < ck) {
      let row = (kv * ck + gj) * (DK + DV);
      for (var k = 0; k < ${nk}; k++) {
        let col = tj + k * T;
        if (col < DK) { result[row + col] = dkacc[k]; }
      }
      for (var k = 0; k < ${nv}; k++) {
        let col = tj + k * T;
        if (col < DV) { result[row + DK + col] = dvacc[k]; }
      }
    }
  }
`;
}

type SaShape = SaGpuShape;

function run(
  name: string,
  code: string,
  vars: string[],
  inputs: tf.TensorInfo[],
  outShape: number[],
  grid: [number, number, number],
  T: number,
  uniforms: [string, "int32" | "float32", number][],
  key: string,
): tf.Tensor {
  const program = {
    variableNames: vars,
    outputShape: outShape,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: grid,
    workgroupSize: [T * T, 1, 1] as [number, number, number],
    uniforms: uniforms.map(([n, t]) => `${n} : ${t === "int32" ? "i32" : "f32"},`).join(" "),
    shaderKey: `lasp${name}_${key}`,
    getUserCode: () => code,
  };
  const backend = tf.backend() as WebGPUBackend;
  const data = uniforms.map(([, type, v]) => ({ type, data: [v] }));
  return tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(program, inputs, "float32", data));
}

/** Workgroup memory a kernel may use on this device (the tfjs backend's device limits). */
function smemLimit(): number {
  const dev = (tf.backend() as unknown as { device?: GPUDevice }).device;
  return dev === undefined ? 16384 : Number(dev.limits.maxComputeWorkgroupStorageSize);
}

const keyOf = (s: SaShape, T: number): string => `${T}_${s.dk}_${s.dv}_${s.groups}`;

/** o [BH, Cq, dv] and lse [BH, Cq] of one call of saForward. */
export const runSaForward: GpuKernels["saForward"] = (q, k, v, posQ, posK, s) => {
  const T = softmaxTile(s.dk, s.dv, smemLimit());
  const packed = run(
    "SaFwd",
    forwardWgsl(T, s.dk, s.dv, s.groups),
    ["Q", "K", "V", "PQ", "PK"],
    [q, k, v, posQ, posK],
    [s.bh, s.cq, s.dv + 1],
    dispatch(Math.max(1, Math.ceil(s.cq / T)), s.bh),
    T,
    [["bh", "int32", s.bh], ["cq", "int32", s.cq], ["ck", "int32", s.ck], ["causal", "int32", s.causal ? 1 : 0], ["scale", "float32", s.scale]],
    keyOf(s, T),
  );
  const o = tf.slice(packed, [0, 0, 0], [s.bh, s.cq, s.dv]) as tf.Tensor3D;
  const lse = tf.reshape(tf.slice(packed, [0, 0, s.dv], [s.bh, s.cq, 1]), [s.bh, s.cq]) as tf.Tensor2D;
  packed.dispose();
  return { o, lse };
};

/** dq, dk, dv of one call of saBackward (D = rowsum(dO * o) computed here). */
export const runSaBackward: GpuKernels["saBackward"] = (q, k, v, o, lse, dO, posQ, posK, s) => {
  return tf.tidy(() => {
    const T = softmaxTile(s.dk, s.dv, smemLimit());
    const D = tf.sum(tf.mul(dO, o), -1);
    const uni: [string, "int32" | "float32", number][] = [
      ["bh", "int32", s.bh],
      ["bhkv", "int32", s.bhkv],
      ["cq", "int32", s.cq],
      ["ck", "int32", s.ck],
      ["causal", "int32", s.causal ? 1 : 0],
      ["scale", "float32", s.scale],
    ];
    const vars = ["Q", "K", "V", "DO", "LSE", "DD", "PQ", "PK"];
    const ins = [q, k, v, dO, lse, D, posQ, posK];
    const dq = run("SaDq", dqWgsl(T, s.dk, s.dv, s.groups), vars, ins, [s.bh, s.cq, s.dk], dispatch(Math.max(1, Math.ceil(s.cq / T)), s.bh), T, uni, keyOf(s, T)) as tf.Tensor3D;
    const packed = run(
      "SaDkDv",
      dkdvWgsl(T, s.dk, s.dv, s.groups),
      vars,
      ins,
      [s.bhkv, s.ck, s.dk + s.dv],
      dispatch(Math.max(1, Math.ceil(s.ck / T)), s.bhkv),
      T,
      uni,
      keyOf(s, T),
    );
    const dk = tf.slice(packed, [0, 0, 0], [s.bhkv, s.ck, s.dk]) as tf.Tensor3D;
    const dv = tf.slice(packed, [0, 0, s.dk], [s.bhkv, s.ck, s.dv]) as tf.Tensor3D;
    return { dq, dk, dv };
  });
};
