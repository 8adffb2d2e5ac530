// The block-state scan of linear attention (kernels/linear/blocks.ts blockScan) as one WGSL dispatch: one
// invocation per state element (row r, key dim i, value dim e) walks the row's J blocks in order, so the
// nb-step serial fold of tfjs ops (2-3 launches per block) becomes a single launch. Reads of one block are
// coalesced across invocations (consecutive e). Decay: exp of the block's total log-decay, scalar or per
// key dim.
import * as tf from "@tensorflow/tfjs-core";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";

const WG = 64;
/** workgroups per dispatch row: under maxComputeWorkgroupsPerDimension (65535) */
const MAX_X = 32768;

/** WGSL body (inside tfjs-backend-webgpu's preamble: inputs S, L, output `result`, `uniforms`). */
export function scanWgsl(decay: boolean, reverse: boolean): string {
  const step = decay
    ? "let a = exp(L[x * uniforms.gd + select(0, i, uniforms.gd > 1)]);\n      acc = acc * a + S[idx];"
    : "acc = acc + S[idx];";
  return `
  fn main(index : i32) {
    let per = uniforms.dk * uniforms.dv;
    if (index >= uniforms.rows * per) { return; }
    let r = index / per;
    let rem = index - r * per;
    let i = rem / uniforms.dv;
    var acc = 0.0;
    for (var t = 0; t < uniforms.items; t++) {
      let j = ${reverse ? "uniforms.items - 1 - t" : "t"};
      let x = r * uniforms.items + j;
      let idx = x * per + rem;
      result[idx] = acc;
      ${step}
    }
  }
`;
}

export function scanDispatch(threads: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / WG));
  return [Math.min(groups, MAX_X), Math.ceil(groups / MAX_X), 1];
}

/** Runs the scan on the webgpu backend; states [R*J, dk, dv], logA [R*J, gd] or null. */
export function runScanBlocks(states: tf.Tensor, logA: tf.Tensor | null, R: number, J: number, reverse: boolean): tf.Tensor {
  const [X, dk, dv] = states.shape as [number, number, number];
  if (states.rank !== 3 || X !== R * J) throw new Error(`scanBlocks: states [${states.shape}] are not ${R} x ${J} blocks of [dk, dv]`);
  const gd = logA === null ? 1 : logA.size / X;
  if (logA !== null && gd !== 1 && gd !== dk) throw new Error(`scanBlocks: log-decays [${logA.shape}] are neither per block nor per key dim`);
  const decay = logA !== null;
  const program = {
    variableNames: decay ? ["S", "L"] : ["S"],
    outputShape: [X, dk, dv],
    dispatchLayout: { x: [0] },
    dispatch: scanDispatch(R * dk * dv),
    workgroupSize: [WG, 1, 1] as [number, number, number],
    uniforms: "rows : i32, items : i32, dk : i32, dv : i32, gd : i32,",
    shaderKey: `laspScanBlocks_${decay}_${reverse}`,
    getUserCode: () => scanWgsl(decay, reverse),
  };
  const backend = tf.backend() as WebGPUBackend;
  const uniforms = [R, J, dk, dv, gd].map((v) => ({ type: "int32", data: [v] }));
  const inputs = decay ? [states, logA] : [states];
  const info = backend.runWebGPUProgram(program, inputs, "float32", uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
}
