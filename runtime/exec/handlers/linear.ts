// Interpreter handlers of the linear-attention ops (LASP-2 pieces, LASP-1 carry, ring cross terms).
// Gathered states arrive in rank order; chunk ids from partition.ts put prefixes in GLOBAL chunk order.
import * as tf from "@tensorflow/tfjs-core";
import type { StepOf } from "../../../compiler/plan/schema.ts";
import {
  laBwdInter,
  laBwdIntra,
  laBwdState,
  laCarry,
  laCross,
  laCrossBwd,
  laInter,
  laIntra,
  laPrefix,
  laState,
  laSuffix,
  type LaGrads,
  type LaOpts,
} from "../../kernels/linear-attention.ts";
import { repeatKv, repeatKvBackward } from "../../kernels/heads.ts";
import type { ExecCtx, Handler } from "../context.ts";
import { isEmpty } from "../env.ts";
import { gatheredChunks, ringOrigin, type RankInfo } from "../rank-info.ts";

type LaStep = StepOf<"la_state">;

/** Per-folded-head lambdas (head b*H + h uses lambdas[h]). */
function foldedLambdas(s: Pick<LaStep, "lambdas" | "batch" | "heads">): Float32Array | null {
  if (s.lambdas === null) return null;
  const out = new Float32Array(s.batch * s.heads);
  for (let b = 0; b < s.batch; b++) for (let h = 0; h < s.heads; h++) out[b * s.heads + h] = s.lambdas[h]!;
  return out;
}

function opts(s: Pick<LaStep, "lambdas" | "batch" | "heads" | "causal" | "block">, info: RankInfo): LaOpts {
  return { causal: s.causal, block: s.block, lambdas: foldedLambdas(s), segLens: info.segLens };
}

const get = (x: ExecCtx, n: string | undefined): tf.Tensor => x.env.get(n!);
const put = (x: ExecCtx, n: string | undefined, t: tf.Tensor): void => x.env.set(n!, t);
/** the optional gate input at position i (gated ops take it last) */
const gateAt = (s: { gated: boolean; in: string[] }, x: ExecCtx, i: number): tf.Tensor | null => (s.gated ? get(x, s.in[i]) : null);

function mine(info: RankInfo): number[] {
  return info.segs.map((g) => g.chunk);
}

/** Bidirectional: every segment sees the sum of all gathered states (its own included). */
function sumAll(all: tf.Tensor, segments: number): tf.Tensor {
  return tf.tidy(() => tf.stack(Array.from({ length: segments }, () => tf.sum(all, 0))));
}

/** A received state as [S, BH, dk, dv]: zeros when nothing was received (first / last rank of a chain). */
function stateOf(t: tf.Tensor, shape: number[]): tf.Tensor {
  if (isEmpty(t)) return tf.zeros(shape);
  return t.shape.length === 4 ? t : tf.reshape(t, shape);
}

function zerosLike(t: tf.Tensor): tf.Tensor {
  return tf.zerosLike(t);
}

function putGrads(x: ExecCtx, out: string[], g: LaGrads): void {
  put(x, out[0], g.dq);
  put(x, out[1], g.dk);
  put(x, out[2], g.dv);
  if (g.dg !== null) {
    if (out[3] !== undefined) put(x, out[3], g.dg);
    else g.dg.dispose();
  }
}

/** Calls fn for each (local segment, block segment) pair the ring term covers, concatenating per local segment. */
function ringPairs(
  x: ExecCtx,
  hop: number,
  causal: boolean,
  fn: (qOff: number, qLen: number, posQ: Int32Array, kOff: number, kLen: number, posK: Int32Array) => void,
): void {
  const origin = ringOrigin(x.info, hop);
  const kSegs = x.info.allSegs[origin]!;
  let qOff = 0;
  for (const qs of x.info.segs) {
    let kOff = 0;
    for (const ks of kSegs) {
      // a segment never pairs with itself (hop W = own block: la_intra has that term)
      if (qs.length > 0 && ks.length > 0 && qs.chunk !== ks.chunk && (!causal || ks.start + ks.length <= qs.start)) {
        const posQ = Int32Array.from({ length: qs.length }, (_, i) => qs.start + i);
        const posK = Int32Array.from({ length: ks.length }, (_, i) => ks.start + i);
        fn(qOff, qs.length, posQ, kOff, ks.length, posK);
      }
      kOff += ks.length;
    }
    qOff += qs.length;
  }
}

const sliceT = (t: tf.Tensor, off: number, len: number): tf.Tensor =>
  tf.slice(t, [0, off, 0], [t.shape[0], len, t.shape[2]!]);

export const linear = {
  la_state: (s, x) => {
    const r = laState(get(x, s.in[0]), get(x, s.in[1]), gateAt(s, x, 2), opts(s, x.info));
    put(x, s.out[0], r.m);
    if (r.a !== null) put(x, s.out[1], r.a);
  },
  la_intra: (s, x) => put(x, s.out[0], laIntra(get(x, s.in[0]), get(x, s.in[1]), get(x, s.in[2]), gateAt(s, x, 3), opts(s, x.info))),
  la_prefix: (s, x) => {
    const all = get(x, s.in[0]);
    if (!s.causal) return put(x, s.out[0], sumAll(all, x.info.segs.length));
    const c = gatheredChunks(x.info);
    put(x, s.out[0], laPrefix(all, gateAt(s, x, 1), c.ids, c.lens, mine(x.info), opts(s, x.info)));
  },
  la_inter: (s, x) => {
    const q = get(x, s.in[0]);
    const S = x.info.segs.length;
    const p = stateOf(get(x, s.in[1]), [S, q.shape[0], s.dk, s.dv]);
    if (!s.causal) {
      const z = tf.zeros([q.shape[0], q.shape[1]!, p.shape[3]!]);
      put(x, s.out[0], laInter(q, p, z, null, opts(s, x.info)));
      z.dispose();
      return;
    }
    put(x, s.out[0], laInter(q, p, get(x, s.in[2]), gateAt(s, x, 3), opts(s, x.info)));
    if (p !== get(x, s.in[1])) p.dispose();
  },
  la_carry: (s, x) => {
    const [pin, m] = [get(x, s.in[0]), get(x, s.in[1])];
    const a = s.gated ? get(x, s.in[2]) : null;
    const out = tf.tidy(() => {
      const m0 = tf.squeeze(m, [0]);
      const p0 = isEmpty(pin) ? tf.zerosLike(m0) : tf.reshape(pin, m0.shape);
      const a0 = a === null ? null : tf.squeeze(a, [0]);
      return tf.expandDims(laCarry(p0, m0, a0, x.info.C, foldedLambdas(s)), 0);
    });
    put(x, s.out[0], out);
  },
  la_cross: (s, x) => {
    const [q, kb, vb] = [get(x, s.in[0]), get(x, s.in[1]), get(x, s.in[2])];
    const lam = foldedLambdas(s);
    const out = tf.tidy(() => {
      const k = repeatKv(kb as tf.Tensor3D, s.groups);
      const v = repeatKv(vb as tf.Tensor3D, s.groups);
      let o: tf.Tensor = tf.zeros([q.shape[0], q.shape[1]!, v.shape[2]]);
      const parts: tf.Tensor[] = [];
      ringPairs(x, s.hop, s.causal, (qOff, qLen, posQ, kOff, kLen, posK) => {
        const c = laCross(sliceT(q, qOff, qLen), posQ, sliceT(k, kOff, kLen), sliceT(v, kOff, kLen), posK, lam, s.causal);
        parts.push(tf.pad(c, [[0, 0], [qOff, q.shape[1]! - qOff - qLen], [0, 0]]));
      });
      for (const p of parts) o = tf.add(o, p);
      return o;
    });
    put(x, s.out[0], out);
  },
  la_cross_bwd: (s, x) => {
    const [q, kb, vb, dO] = [get(x, s.in[0]), get(x, s.in[1]), get(x, s.in[2]), get(x, s.in[3])];
    const lam = foldedLambdas(s);
    const res = tf.tidy(() => {
      const k = repeatKv(kb as tf.Tensor3D, s.groups);
      const v = repeatKv(vb as tf.Tensor3D, s.groups);
      let dq: tf.Tensor = tf.zerosLike(q);
      let dk: tf.Tensor = tf.zerosLike(k);
      let dv: tf.Tensor = tf.zerosLike(v);
      const C = q.shape[1]!;
      const Ck = k.shape[1];
      ringPairs(x, s.hop, s.causal, (qOff, qLen, posQ, kOff, kLen, posK) => {
        const g = laCrossBwd(sliceT(q, qOff, qLen), posQ, sliceT(k, kOff, kLen), sliceT(v, kOff, kLen), posK, lam, sliceT(dO, qOff, qLen), s.causal);
        dq = tf.add(dq, tf.pad(g.dq, [[0, 0], [qOff, C - qOff - qLen], [0, 0]]));
        dk = tf.add(dk, tf.pad(g.dk, [[0, 0], [kOff, Ck - kOff - kLen], [0, 0]]));
        dv = tf.add(dv, tf.pad(g.dv, [[0, 0], [kOff, Ck - kOff - kLen], [0, 0]]));
      });
      return [dq, repeatKvBackward(dk as tf.Tensor3D, s.groups), repeatKvBackward(dv as tf.Tensor3D, s.groups)];
    });
    res.forEach((t, i) => put(x, s.out[i], t));
  },
  la_bwd_state: (s, x) => put(x, s.out[0], laBwdState(get(x, s.in[0]), get(x, s.in[1]), gateAt(s, x, 2), opts(s, x.info))),
  la_bwd_intra: (s, x) =>
    putGrads(x, s.out, laBwdIntra(get(x, s.in[0]), get(x, s.in[1]), get(x, s.in[2]), gateAt(s, x, 4), get(x, s.in[3]), opts(s, x.info))),
  la_suffix: (s, x) => {
    const all = get(x, s.in[0]);
    if (!s.causal) return put(x, s.out[0], sumAll(all, x.info.segs.length));
    const c = gatheredChunks(x.info);
    put(x, s.out[0], laSuffix(all, gateAt(s, x, 1), c.ids, c.lens, mine(x.info), opts(s, x.info)));
  },
  la_bwd_inter: (s, x) => {
    const [q, k, v, dO] = [0, 1, 2, 3].map((i) => get(x, s.in[i]));
    const shape = [x.info.segs.length, q!.shape[0], s.dk, s.dv];
    const [p, g] = [stateOf(get(x, s.in[4]), shape), stateOf(get(x, s.in[5]), shape)];
    const gate = gateAt(s, x, 6);
    // the plan adds la_bwd_intra's terms itself: start the inter terms from zero
    const zero: LaGrads = {
      dq: zerosLike(q!),
      dk: zerosLike(k!),
      dv: zerosLike(v!),
      dg: gate === null ? null : zerosLike(gate),
    };
    const r = laBwdInter(q!, k!, v!, gate, dO!, p, g, zero, opts(s, x.info));
    for (const t of [zero.dq, zero.dk, zero.dv, zero.dg]) t?.dispose();
    if (p !== get(x, s.in[4])) p.dispose();
    if (g !== get(x, s.in[5])) g.dispose();
    putGrads(x, s.out, r);
  },
} satisfies {
  [K in "la_state" | "la_intra" | "la_prefix" | "la_inter" | "la_carry" | "la_cross" | "la_cross_bwd" | "la_bwd_state" | "la_bwd_intra" | "la_suffix" | "la_bwd_inter"]: Handler<K>;
};
