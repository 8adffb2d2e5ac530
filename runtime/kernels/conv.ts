// Short causal depthwise convolution over tokens on [B*C, D] (per batch row), with a halo of the
// kc-1 tokens before each local segment (sent by the rank holding them; zeros at the sequence start).
// y_t = sum_{j<kc} w[j] * x_{t-(kc-1)+j}  (w[kc-1] weighs the current token; PyTorch conv1d, left pad).
// API: causalConv(x, halo, w [kc, D], opts) -> y; causalConvBackward(x, halo, w, dy, opts) -> {dx, dw, dhalo}.
// halo / dhalo: [B*S*(kc-1), D], row (b*S + s)*(kc-1) + j = token j of the kc-1 before segment s.
import * as tf from "@tensorflow/tfjs-core";
import { compute, computeMany, jsKernelsActive } from "./cpu/arrays.ts";

export interface ConvOptions {
  readonly batch: number;
  /** lengths of the local segments in local order (sum = C); default one segment of C tokens */
  readonly segLens?: readonly number[];
}

interface Layout {
  b: number;
  c: number;
  dm: number;
  kc: number;
  segs: { off: number; len: number }[];
}

function layout(x: tf.Tensor2D, halo: tf.Tensor2D, w: tf.Tensor2D, opts: ConvOptions): Layout {
  const b = opts.batch;
  const [bc, dm] = x.shape;
  const c = bc / b;
  const kc = w.shape[0];
  if (!Number.isInteger(c) || w.shape[1] !== dm) throw new Error(`causalConv: x [${x.shape}] w [${w.shape}] batch ${b}`);
  const lens = opts.segLens ?? [c];
  if (lens.some((x) => !Number.isInteger(x) || x < 0) || lens.reduce((s, x) => s + x, 0) !== c) throw new Error(`causalConv: segments ${lens} do not sum to ${c}`);
  if (halo.shape[0] !== b * lens.length * (kc - 1) || halo.shape[1] !== dm)
    throw new Error(`causalConv: halo [${halo.shape}] for batch ${b}, ${lens.length} segments, kernel ${kc}`);
  let off = 0;
  const segs = lens.map((len) => {
    const s = { off, len };
    off += len;
    return s;
  });
  return { b, c, dm, kc, segs };
}

/** Segment s with its halo in front: [B, kc-1+len, D]. */
function extended(x3: tf.Tensor3D, halo4: tf.Tensor4D, l: Layout, s: number): tf.Tensor3D {
  const seg = l.segs[s]!;
  const xs = tf.slice(x3, [0, seg.off, 0], [l.b, seg.len, l.dm]);
  const hs = tf.reshape(tf.slice(halo4, [0, s, 0, 0], [l.b, 1, l.kc - 1, l.dm]), [l.b, l.kc - 1, l.dm]);
  return tf.concat([hs, xs], 1) as tf.Tensor3D;
}

export function causalConv(x: tf.Tensor2D, halo: tf.Tensor2D, w: tf.Tensor2D, opts: ConvOptions): tf.Tensor2D {
  const l = layout(x, halo, w, opts);
  if (jsKernelsActive()) return convJs(x, halo, w, l);
  return tf.tidy(() => {
    const x3 = tf.reshape(x, [l.b, l.c, l.dm]) as tf.Tensor3D;
    const halo4 = tf.reshape(halo, [l.b, l.segs.length, l.kc - 1, l.dm]) as tf.Tensor4D;
    const ys = l.segs.map((seg, s) => {
      const xe = extended(x3, halo4, l, s);
      let y: tf.Tensor = tf.zeros([l.b, seg.len, l.dm]);
      for (let j = 0; j < l.kc; j++)
        y = tf.add(y, tf.mul(tf.slice(xe, [0, j, 0], [l.b, seg.len, l.dm]), tf.reshape(tf.slice(w, [j, 0], [1, l.dm]), [l.dm])));
      return y;
    });
    return tf.reshape(tf.concat(ys, 1), [l.b * l.c, l.dm]) as tf.Tensor2D;
  });
}

export function causalConvBackward(
  x: tf.Tensor2D,
  halo: tf.Tensor2D,
  w: tf.Tensor2D,
  dy: tf.Tensor2D,
  opts: ConvOptions,
): { dx: tf.Tensor2D; dw: tf.Tensor2D; dhalo: tf.Tensor2D } {
  const l = layout(x, halo, w, opts);
  if (jsKernelsActive()) return convBackwardJs(x, halo, w, dy, l);
  return tf.tidy(() => {
    const x3 = tf.reshape(x, [l.b, l.c, l.dm]) as tf.Tensor3D;
    const dy3 = tf.reshape(dy, [l.b, l.c, l.dm]) as tf.Tensor3D;
    const halo4 = tf.reshape(halo, [l.b, l.segs.length, l.kc - 1, l.dm]) as tf.Tensor4D;
    const dxs: tf.Tensor[] = [];
    const dhs: tf.Tensor[] = [];
    let dw: tf.Tensor = tf.zeros([l.kc, l.dm]);
    l.segs.forEach((seg, s) => {
      const xe = extended(x3, halo4, l, s);
      const dys = tf.slice(dy3, [0, seg.off, 0], [l.b, seg.len, l.dm]);
      let dxe: tf.Tensor = tf.zeros([l.b, seg.len + l.kc - 1, l.dm]);
      const dwRows: tf.Tensor[] = [];
      for (let j = 0; j < l.kc; j++) {
        const wj = tf.reshape(tf.slice(w, [j, 0], [1, l.dm]), [l.dm]);
        dxe = tf.add(dxe, tf.pad(tf.mul(dys, wj), [[0, 0], [j, l.kc - 1 - j], [0, 0]]));
        dwRows.push(tf.sum(tf.mul(dys, tf.slice(xe, [0, j, 0], [l.b, seg.len, l.dm])), [0, 1]));
      }
      dw = tf.add(dw, tf.stack(dwRows, 0));
      dhs.push(tf.slice(dxe, [0, 0, 0], [l.b, l.kc - 1, l.dm]));
      dxs.push(tf.slice(dxe, [0, l.kc - 1, 0], [l.b, seg.len, l.dm]));
    });
    return {
      dx: tf.reshape(tf.concat(dxs, 1), [l.b * l.c, l.dm]) as tf.Tensor2D,
      dw: dw as tf.Tensor2D,
      dhalo: tf.reshape(tf.stack(dhs, 1), [l.b * l.segs.length * (l.kc - 1), l.dm]) as tf.Tensor2D,
    };
  });
}

// ---- the same two functions as plain loops (CPU backends, see cpu/arrays.ts) ----

/** y = causalConv: extended position i = t + j of segment s reads the halo (i < kc-1) or x. */
function convJs(x: tf.Tensor2D, halo: tf.Tensor2D, w: tf.Tensor2D, l: Layout): tf.Tensor2D {
  const { b, c, dm, kc, segs } = l;
  const S = segs.length;
  return compute([b * c, dm], [x, halo, w], (y, [xv, hv, wv]) => {
    for (let bi = 0; bi < b; bi++)
      segs.forEach((seg, s) => {
        const hbase = (bi * S + s) * (kc - 1);
        for (let t = 0; t < seg.len; t++) {
          const yo = (bi * c + seg.off + t) * dm;
          for (let j = 0; j < kc; j++) {
            const i = t + j; // extended index
            const src = i < kc - 1 ? hv! : xv!;
            const so = (i < kc - 1 ? hbase + i : bi * c + seg.off + i - (kc - 1)) * dm;
            const wo = j * dm;
            for (let d = 0; d < dm; d++) y[yo + d]! += wv![wo + d]! * src[so + d]!;
          }
        }
      });
  }) as tf.Tensor2D;
}

function convBackwardJs(x: tf.Tensor2D, halo: tf.Tensor2D, w: tf.Tensor2D, dy: tf.Tensor2D, l: Layout): { dx: tf.Tensor2D; dw: tf.Tensor2D; dhalo: tf.Tensor2D } {
  const { b, c, dm, kc, segs } = l;
  const S = segs.length;
  const [dx, dw, dhalo] = computeMany([[b * c, dm], [kc, dm], [b * S * (kc - 1), dm]], [x, halo, w, dy], ([dxv, dwv, dhv], [xv, hv, wv, dyv]) => {
    for (let bi = 0; bi < b; bi++)
      segs.forEach((seg, s) => {
        const hbase = (bi * S + s) * (kc - 1);
        for (let t = 0; t < seg.len; t++) {
          const go = (bi * c + seg.off + t) * dm;
          for (let j = 0; j < kc; j++) {
            const i = t + j;
            const inHalo = i < kc - 1;
            const row = (inHalo ? hbase + i : bi * c + seg.off + i - (kc - 1)) * dm;
            const src = inHalo ? hv! : xv!;
            const dst = inHalo ? dhv! : dxv!;
            const wo = j * dm;
            for (let d = 0; d < dm; d++) {
              const g = dyv![go + d]!;
              dst[row + d]! += wv![wo + d]! * g;
              dwv![wo + d]! += src[row + d]! * g;
            }
          }
        }
      });
  });
  return { dx: dx as tf.Tensor2D, dw: dw as tf.Tensor2D, dhalo: dhalo as tf.Tensor2D };
}
