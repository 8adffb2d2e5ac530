// Interpreter handlers of the token-local ops (embedding, norms, projections, activations, reshapes,
// RoPE, feature maps, short convolution, GLA gate projection, loss): each calls one kernel.
import * as tf from "@tensorflow/tfjs-core";
import { matMul, simdMatMulActive } from "../../kernels/simd/matmul.ts";
import { causalConv, causalConvBackward } from "../../kernels/conv.ts";
import { gelu, geluBackward, swiglu, swigluBackward } from "../../kernels/dense.ts";
import { embedding, embeddingBackward } from "../../kernels/embed.ts";
import { gateProj, gateProjBackward } from "../../kernels/gate.ts";
import { featureBackward, featureForward } from "../../kernels/feature.ts";
import { heads, repeatKv, repeatKvBackward, unheads } from "../../kernels/heads.ts";
import { crossEntropy, crossEntropyBackward } from "../../kernels/loss.ts";
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from "../../kernels/norm.ts";
import { rope, ropeBackward } from "../../kernels/rope.ts";
import type { ExecCtx, Handler } from "../context.ts";
import { isEmpty } from "../env.ts";
import { localPositions } from "../rank-info.ts";

type T2 = tf.Tensor2D;
type T3 = tf.Tensor3D;

const get = (x: ExecCtx, name: string | undefined): tf.Tensor => x.env.get(name!);
const get2 = (x: ExecCtx, name: string | undefined): T2 => x.env.get(name!) as T2;
const get3 = (x: ExecCtx, name: string | undefined): T3 => x.env.get(name!) as T3;
const put = (x: ExecCtx, name: string | undefined, t: tf.Tensor): void => x.env.set(name!, t);

/** The feature-map affine of Rebased (square): (gamma * x + beta), per head dim. */
function affine(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, gamma), beta);
}

/** The halo a short conv reads: the received rows, or zeros when nothing came (first rank). */
function haloOr0(x: ExecCtx, name: string, rows: number, width: number): T2 {
  const h = get(x, name);
  return (isEmpty(h) ? tf.zeros([rows, width]) : h) as T2;
}

/**
 * A 2-D matmul with a transposed operand, transposed explicitly first: the wasm backend's matMul with
 * transposeA/transposeB takes a slow path, 5-11x slower on the [B*C, D] shapes here (measured on
 * [2048, 64] x [2048, 256]: 1170 ms with transposeA vs 104 ms transpose + matMul); it was over half the
 * training step time.
 */
function mmT(a: T2, b: T2, transA: boolean, transB: boolean): T2 {
  // our SIMD kernel (CPU backends) reads transposed operands at full speed
  if (simdMatMulActive()) return matMul(a, b, transA, transB);
  return tf.tidy(() => matMul(transA ? tf.transpose(a) : a, transB ? tf.transpose(b) : b));
}

export const dense = {
  embed: (s, x) => put(x, s.out[0], embedding(x.env.getInts(s.in[0]!), get2(x, s.in[1]))),
  embed_bwd: (s, x) => put(x, s.out[0], embeddingBackward(x.env.getInts(s.in[1]!), get2(x, s.in[0]), s.vocab)),
  norm: (s, x) => {
    const [xin, gamma, beta] = [get2(x, s.in[0]), get(x, s.in[1]) as tf.Tensor1D, s.in[2]];
    put(x, s.out[0], s.kind === "rms" ? rmsNorm(xin, gamma, s.eps) : layerNorm(xin, gamma, beta ? (get(x, beta) as tf.Tensor1D) : null, s.eps));
  },
  norm_bwd: (s, x) => {
    const [dy, xin, gamma] = [get2(x, s.in[0]), get2(x, s.in[1]), get(x, s.in[2]) as tf.Tensor1D];
    if (s.kind === "rms") {
      const g = rmsNormBackward(xin, gamma, dy, s.eps);
      put(x, s.out[0], g.dx);
      put(x, s.out[1], g.dw);
    } else {
      const g = layerNormBackward(xin, gamma, dy, s.eps);
      put(x, s.out[0], g.dx);
      put(x, s.out[1], g.dw);
      if (s.out[2] !== undefined) put(x, s.out[2], g.db);
      else g.db.dispose();
    }
  },
  matmul: (s, x) => put(x, s.out[0], s.transB ? mmT(get2(x, s.in[0]), get2(x, s.in[1]), false, true) : matMul(get2(x, s.in[0]), get2(x, s.in[1]))),
  matmul_bwd: (s, x) => {
    const [dy, xin, w] = [get2(x, s.in[0]), get2(x, s.in[1]), get2(x, s.in[2])];
    if (s.transB) {
      put(x, s.out[0], matMul(dy, w));
      put(x, s.out[1], mmT(dy, xin, true, false));
    } else {
      // matmulBackward(xin, w, dy) computes the same with transpose flags (slow on wasm, see mmT)
      put(x, s.out[0], mmT(dy, w, false, true));
      put(x, s.out[1], mmT(xin, dy, true, false));
    }
  },
  add: (s, x) => {
    const [a, b] = [get(x, s.in[0]), get(x, s.in[1])];
    // an empty operand (nothing received) is a zero
    put(x, s.out[0], isEmpty(a) ? tf.clone(b) : isEmpty(b) ? tf.clone(a) : tf.add(a, b));
  },
  swiglu: (s, x) => put(x, s.out[0], swiglu(get(x, s.in[0]), get(x, s.in[1]))),
  swiglu_bwd: (s, x) => {
    const g = swigluBackward(get(x, s.in[1]), get(x, s.in[2]), get(x, s.in[0]));
    put(x, s.out[0], g.dg);
    put(x, s.out[1], g.du);
  },
  gelu: (s, x) => put(x, s.out[0], gelu(get(x, s.in[0]))),
  gelu_bwd: (s, x) => put(x, s.out[0], geluBackward(get(x, s.in[1]), get(x, s.in[0]))),
  heads: (s, x) => put(x, s.out[0], heads(get2(x, s.in[0]), s.batch, s.heads)),
  unheads: (s, x) => put(x, s.out[0], unheads(get3(x, s.in[0]), s.batch)),
  repeat_kv: (s, x) => put(x, s.out[0], repeatKv(get3(x, s.in[0]), s.groups)),
  repeat_kv_bwd: (s, x) => put(x, s.out[0], repeatKvBackward(get3(x, s.in[0]), s.groups)),
  rope: (s, x) => put(x, s.out[0], rope(get3(x, s.in[0]), localPositions(x.info), s.theta)),
  rope_bwd: (s, x) => put(x, s.out[0], ropeBackward(get3(x, s.in[0]), localPositions(x.info), s.theta)),
  feature: (s, x) => {
    const xin = get2(x, s.in[0]);
    const rows = xin.shape[0];
    const y = tf.tidy(() => {
      let v: tf.Tensor = tf.reshape(xin, [1, rows * s.heads, s.dim]);
      if (s.map === "square") v = affine(v, get(x, s.in[1]), get(x, s.in[2]));
      return tf.reshape(featureForward(s.map, v as T3), [rows, s.heads * s.outDim]);
    });
    put(x, s.out[0], y);
  },
  feature_bwd: (s, x) => {
    const [dy, xin] = [get2(x, s.in[0]), get2(x, s.in[1])];
    const rows = xin.shape[0];
    const res = tf.tidy(() => {
      const x3 = tf.reshape(xin, [1, rows * s.heads, s.dim]);
      const dy3 = tf.reshape(dy, [1, rows * s.heads, s.outDim]) as T3;
      if (s.map !== "square") return [tf.reshape(featureBackward(s.map, x3 as T3, dy3), [rows, s.heads * s.dim])];
      const [gamma, beta] = [get(x, s.in[2]), get(x, s.in[3])];
      const da = featureBackward("square", affine(x3, gamma, beta) as T3, dy3);
      return [
        tf.reshape(tf.mul(da, gamma), [rows, s.heads * s.dim]),
        tf.sum(tf.reshape(tf.mul(da, x3), [-1, s.dim]), 0),
        tf.sum(tf.reshape(da, [-1, s.dim]), 0),
      ];
    });
    res.forEach((t, i) => put(x, s.out[i], t));
  },
  tail: (s, x) => {
    const xin = get2(x, s.in[0]);
    const w = xin.shape[1];
    const c = xin.shape[0] / s.batch;
    const y = tf.tidy(() => {
      const x3 = tf.reshape(xin, [s.batch, c, w]);
      const take = Math.min(c, s.tokens);
      const last = tf.slice(x3, [0, c - take, 0], [s.batch, take, w]);
      const padded = take < s.tokens ? tf.concat([tf.zeros([s.batch, s.tokens - take, w]), last], 1) : last;
      return tf.reshape(padded, [s.batch * s.tokens, w]);
    });
    put(x, s.out[0], y);
  },
  tail_add: (s, x) => {
    const [xin, t] = [get2(x, s.in[0]), get(x, s.in[1])];
    if (isEmpty(t)) {
      put(x, s.out[0], tf.clone(xin));
      return;
    }
    const w = xin.shape[1];
    const c = xin.shape[0] / s.batch;
    const y = tf.tidy(() => {
      const x3 = tf.reshape(xin, [s.batch, c, w]);
      const take = Math.min(c, s.tokens);
      const t3 = tf.slice(tf.reshape(t, [s.batch, s.tokens, w]), [0, s.tokens - take, 0], [s.batch, take, w]);
      const pad = tf.concat([tf.zeros([s.batch, c - take, w]), t3], 1);
      return tf.reshape(tf.add(x3, pad), [s.batch * c, w]);
    });
    put(x, s.out[0], y);
  },
  short_conv: (s, x) => {
    const xin = get2(x, s.in[0]);
    const halo = haloOr0(x, s.in[1]!, s.batch * (s.kernel - 1), s.channels);
    put(x, s.out[0], causalConv(xin, halo, get2(x, s.in[2]), { batch: s.batch, segLens: x.info.segLens }));
  },
  short_conv_bwd: (s, x) => {
    const [dy, xin] = [get2(x, s.in[0]), get2(x, s.in[1])];
    const halo = haloOr0(x, s.in[2]!, s.batch * (s.kernel - 1), s.channels);
    const g = causalConvBackward(xin, halo, get2(x, s.in[3]), dy, { batch: s.batch, segLens: x.info.segLens });
    put(x, s.out[0], g.dx);
    put(x, s.out[1], g.dhalo);
    put(x, s.out[2], g.dw);
  },
  gate_proj: (s, x) => {
    const [h, w1, w2] = [get2(x, s.in[0]), get2(x, s.in[1]), get2(x, s.in[2])];
    put(x, s.out[0], tf.tidy(() => heads(gateProj(h, w1, w2, s.tau), s.batch, s.heads)));
  },
  gate_proj_bwd: (s, x) => {
    const [dg, h, w1, w2] = [get3(x, s.in[0]), get2(x, s.in[1]), get2(x, s.in[2]), get2(x, s.in[3])];
    const dz = unheads(dg, s.batch); // d g in token-major [B*C, H*dk]
    const g = gateProjBackward(h, w1, w2, dz, s.tau);
    dz.dispose();
    put(x, s.out[0], g.dh);
    put(x, s.out[1], g.dw1);
    put(x, s.out[2], g.dw2);
  },
  xent: (s, x) => {
    const scale = x.lossScale ?? s.scale;
    put(x, s.out[0], tf.tidy(() => tf.reshape(crossEntropy(get2(x, s.in[0]), x.env.getInts(s.in[1]!), 1 / scale), [1])));
  },
  xent_bwd: (s, x) => {
    const scale = x.lossScale ?? s.scale;
    put(x, s.out[0], crossEntropyBackward(get2(x, s.in[0]), x.env.getInts(s.in[1]!), 1 / scale));
  },
} satisfies { [K in "embed" | "embed_bwd" | "norm" | "norm_bwd" | "matmul" | "matmul_bwd" | "add" | "swiglu" | "swiglu_bwd" | "gelu" | "gelu_bwd" | "heads" | "unheads" | "repeat_kv" | "repeat_kv_bwd" | "rope" | "rope_bwd" | "feature" | "feature_bwd" | "tail" | "tail_add" | "short_conv" | "short_conv_bwd" | "gate_proj" | "gate_proj_bwd" | "xent" | "xent_bwd"]: Handler<K> };
