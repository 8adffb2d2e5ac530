// The masked, decayed diagonal tile of blocked linear attention (kernels/linear/diag.ts) as one WGSL dispatch
// per product, with no [X, b, b] score tensor in memory:
//   out[x, i, :] = sum over j of w(i, j) (A[x, i] . B[x, j]) Cv[x, j, :]
// lower: j <= i, w = exp(min(c_i - c_j, 0)); upper: j >= i, w = exp(min(c_j - c_i, 0)); c [X, b] the
// cumulative log-decay from the block start (none: w = 1). The forward is (q, k, v, lower); the backward's
// dq (dO, v, k, lower), dk (v, dO, q, upper), dv (k, q, dO, upper). A workgroup owns T rows of one block and
// walks the block's other rows T at a time: their B and Cv rows and this tile's A rows in workgroup memory,
// one score per invocation, then each invocation accumulates its row's outputs (columns tj, tj + T, ...).
import * as tf from "@tensorflow/tfjs-core";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";

/** rows of a tile, and the rows of the other side loaded per step */
export const TILE = 16;
const MAX_Y = 65535;

export function tileWgsl(da: number, dc: number, upper: boolean, decay: boolean): string {
  const T = TILE;
  const nacc = Math.ceil(dc / T);
  const w = decay
    ? `exp(min(${upper ? "C[x * b + gj] - C[x * b + gi]" : "C[x * b + gi] - C[x * b + gj]"}, 0.0))`
    : "1.0";
  // chunks of the other side that meet this tile's rows (the loop itself runs over the whole block so its
  // bounds stay uniform: tfjs passes workgroupId through a private variable, which WGSL's uniformity
  // analysis does not trust, and every barrier must be reached by the whole workgroup)
  const meets = upper ? "j0 + T > i0" : "j0 <= i0 + T - 1";
  const inRel = upper ? "gj >= gi" : "gj <= gi";
  return `
  const T = ${T};
  const DA = ${da};
  const DC = ${dc};
  var<workgroup> As : array<f32, ${T * da}>;
  var<workgroup> Bs : array<f32, ${T * da}>;
  var<workgroup> Cs : array<f32, ${T * dc}>;
  var<workgroup> Ss : array<f32, ${T * T}>;

  fn main() {
    let b = uniforms.b;
    let x = i32(workgroupId.y + workgroupId.z * ${MAX_Y}u);
    let live = x < uniforms.X;
    let i0 = i32(workgroupId.x) * T;
    let tid = i32(localIndex);
    let ti = tid / T;
    let tj = tid % T;
    for (var e = tid; e < T * DA; e += T * T) {
      let g = i0 + e / DA;
      var v = 0.0;
      if (live && g < b) { v = A[(x * b + g) * DA + e % DA]; }
      As[e] = v;
    }
    var acc : array<f32, ${nacc}>;
    for (var k = 0; k < ${nacc}; k++) { acc[k] = 0.0; }
    let gi = i0 + ti;
    for (var j0 = 0; j0 < b; j0 += T) {
      let meet = live && ${meets};
      workgroupBarrier();
      for (var e = tid; e < T * DA; e += T * T) {
        let g = j0 + e / DA;
        var v = 0.0;
        if (meet && g < b) { v = B[(x * b + g) * DA + e % DA]; }
        Bs[e] = v;
      }
      for (var e = tid; e < T * DC; e += T * T) {
        let g = j0 + e / DC;
        var v = 0.0;
        if (meet && g < b) { v = V[(x * b + g) * DC + e % DC]; }
        Cs[e] = v;
      }
      workgroupBarrier();
      let gj = j0 + tj;
      var sw = 0.0;
      if (meet && gi < b && gj < b && ${inRel}) {
        var s = 0.0;
        for (var d = 0; d < DA; d++) { s = fma(As[ti * DA + d], Bs[tj * DA + d], s); }
        sw = s * ${w};
      }
      Ss[ti * T + tj] = sw;
      workgroupBarrier();
      if (meet) {
        for (var jj = 0; jj < T; jj++) {
          let sc = Ss[ti * T + jj];
          for (var k = 0; k < ${nacc}; k++) {
            let col = tj + k * T;
            if (col < DC) { acc[k] = fma(sc, Cs[jj * DC + col], acc[k]); }
          }
        }
      }
    }
    if (live && gi < b) {
      for (var k = 0; k < ${nacc}; k++) {
        let col = tj + k * T;
        if (col < DC) { result[(x * b + gi) * DC + col] = acc[k]; }
      }
    }
  }
`;
}

export function tileDispatch(X: number, b: number): [number, number, number] {
  return [Math.ceil(b / TILE), Math.min(X, MAX_Y), Math.ceil(X / MAX_Y)];
}

/**
 * The tile product on the webgpu backend: a, bm [X, b, da], cv [X, b, dc], c [X, b, 1] (cumulative
 * log-decay) or null; returns [X, b, dc].
 */
export function runTileAttend(a: tf.Tensor, bm: tf.Tensor, cv: tf.Tensor, c: tf.Tensor | null, upper: boolean): tf.Tensor {
  const [X, b, da] = a.shape as [number, number, number];
  const dc = cv.shape[2]!;
  if (a.rank !== 3 || bm.shape[0] !== X || bm.shape[1] !== b || bm.shape[2] !== da || cv.shape[0] !== X || cv.shape[1] !== b)
    throw new Error(`tileAttend: shapes [${a.shape}] [${bm.shape}] [${cv.shape}] do not match`);
  if (c !== null && c.size !== X * b) throw new Error(`tileAttend: log-decays [${c.shape}] are not one per token`);
  const decay = c !== null;
  const program = {
    variableNames: decay ? ["A", "B", "V", "C"] : ["A", "B", "V"],
    outputShape: [X, b, dc],
    dispatchLayout: { x: [1], y: [0] },
    dispatch: tileDispatch(X, b),
    workgroupSize: [TILE * TILE, 1, 1] as [number, number, number],
    uniforms: "X : i32, b : i32,",
    shaderKey: `laspTile_${da}_${dc}_${upper}_${decay}`,
    getUserCode: () => tileWgsl(da, dc, upper, decay),
  };
  const backend = tf.backend() as WebGPUBackend;
  const uniforms = [X, b].map((v) => ({ type: "int32", data: [v] }));
  const inputs = decay ? [a, bm, cv, c] : [a, bm, cv];
  const info = backend.runWebGPUProgram(program, inputs, "float32", uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
}
