// Streamed elementwise kernels of linear attention on our WebAssembly module: the block-state scan
// (blocks.ts blockScan: per row r of J block states of L floats, out[j] = f(j-1) out[j-1] + s[j-1] forward,
// the state entering block j, or out[j] = f(j+1) out[j+1] + s[j+1] reverse, with a scalar decay per block),
// and the diagonal tiles' mask / decay weights (diag.ts) broadcast per head.
import * as tf from "@tensorflow/tfjs-core";
import { kernelSite } from "./heap.ts";
import { simdMatMulActive } from "./matmul.ts";

/**
 * states [R*J, ...] (J items per row, each of L = size / (R*J) floats); factors [R*J] (block decay
 * exp(logA), row-major) or null (no decay). Null when the kernels are not active on this backend.
 */
export function scanBlocks(states: tf.Tensor, R: number, J: number, factors: Float32Array | null, reverse: boolean): tf.Tensor | null {
  if (!simdMatMulActive() || states.dtype !== "float32") return null;
  const L = states.size / (R * J);
  if (!Number.isInteger(L) || J < 1) throw new Error(`scanBlocks: ${states.size} values are not ${R} x ${J} items`);
  if (factors !== null && factors.length !== R * J) throw new Error(`scanBlocks: ${factors.length} factors for ${R} x ${J} items`);
  const site = kernelSite();
  try {
    const src = site.offset(states);
    const out = site.output(states.shape);
    let fac = 0;
    if (factors !== null) {
      fac = site.heap.alloc(4 * factors.length);
      new Float32Array(site.heap.mem.buffer, fac, factors.length).set(factors);
    }
    site.kernel.scan(R, J, L, src, out.ptr, fac, factors === null ? 0 : 1, reverse ? 1 : 0);
    return out.done();
  } finally {
    site.release();
  }
}

/**
 * x [R*J, ...P] times m [R, ...P] broadcast over each row's J items (x's item r*J + j uses m's row r); null when
 * the kernels are not active on this backend.
 */
export function mulRows(x: tf.Tensor, m: tf.Tensor, R: number, J: number): tf.Tensor | null {
  if (!simdMatMulActive() || x.dtype !== "float32" || m.dtype !== "float32") return null;
  const P = m.size / R;
  if (!Number.isInteger(P) || x.size !== R * J * P) throw new Error(`mulRows: [${x.shape}] is not ${R} x ${J} items of the ${P} values of [${m.shape}] / ${R}`);
  const site = kernelSite();
  try {
    const src = site.offset(x);
    const pm = site.offset(m);
    const out = site.output(x.shape);
    site.kernel.mulRows(R, J, P, src, pm, out.ptr);
    return out.done();
  } finally {
    site.release();
  }
}
