// Test harness for the linear-attention kernels: seeded random cases, the float64 oracle's answers, and
// W simulated ranks in one process (LASP-2 with a JS "AllGather", the LASP-1 carry chain, ring hops).
import * as tf from "@tensorflow/tfjs-core";
import { allChunks, rankPositions, rankSegments } from "../../compiler/plan/partition.ts";
import type { Layout } from "../../dsl/spec.ts";
import * as la from "../../runtime/kernels/linear-attention.ts";
import { oracleBackward, oracleForward, type OracleInput } from "../oracle/linear-attention.ts";

export type Variant = "none" | "decay" | "gated" | "gated+decay" | "bidir";

export interface Case {
  x: OracleInput;
  dO: Float64Array;
  variant: Variant;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeCase(bh: number, n: number, dk: number, dv: number, variant: Variant, seed: number): Case {
  const r = rng(seed);
  const uni = (len: number): Float64Array => Float64Array.from({ length: len }, () => 2 * r() - 1);
  const gated = variant === "gated" || variant === "gated+decay";
  const decayed = variant === "decay" || variant === "gated+decay";
  // log-sigmoid gates: log alpha in about (-3, -0.05)
  const g = gated ? Float64Array.from({ length: bh * n * dk }, () => -Math.log1p(Math.exp(-(6 * r() - 2.5)))) : null;
  const lambdas = decayed ? Float64Array.from({ length: bh }, (_, h) => [0.9, 0.6, 1][h % 3]!) : null;
  // the kernels see float32: round the inputs so oracle and kernels start from the same numbers
  const f32 = (a: Float64Array): Float64Array => Float64Array.from(Float32Array.from(a));
  const x: OracleInput = {
    bh, n, dk, dv,
    q: f32(uni(bh * n * dk)),
    k: f32(uni(bh * n * dk)),
    v: f32(uni(bh * n * dv)),
    g: g ? f32(g) : null,
    lambdas: lambdas ? f32(lambdas) : null,
    causal: variant !== "bidir",
  };
  return { x, dO: f32(uni(bh * n * dv)), variant };
}

export interface Result {
  o: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
  dg: Float64Array | null;
}

export function oracle(c: Case): Result {
  return { o: oracleForward(c.x), ...oracleBackward(c.x, c.dO) };
}

/** max |got - ref| / max |ref| (absolute when the reference is all zeros, e.g. dg of one token) */
export function relErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return den > 0 ? num / den : num;
}

/** Largest relative error over o and every gradient. */
export function worst(got: Result, ref: Result): Record<string, number> {
  const out: Record<string, number> = {
    o: relErr(got.o, ref.o),
    dq: relErr(got.dq, ref.dq),
    dk: relErr(got.dk, ref.dk),
    dv: relErr(got.dv, ref.dv),
  };
  if (ref.dg) out.dg = got.dg ? relErr(got.dg, ref.dg) : Infinity;
  return out;
}

/** Runs fn and frees every tensor it made (results here are plain arrays). */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

const t3 = (a: Float64Array, bh: number, n: number, d: number): tf.Tensor => tf.tensor3d(Float32Array.from(a), [bh, n, d]);

/** Global [BH, N, d] tensors of a case. */
export function globals(c: Case) {
  const { bh, n, dk, dv } = c.x;
  return {
    q: t3(c.x.q, bh, n, dk),
    k: t3(c.x.k, bh, n, dk),
    v: t3(c.x.v, bh, n, dv),
    g: c.x.g ? t3(c.x.g, bh, n, dk) : null,
    dO: t3(c.dO, bh, n, dv),
    lambdas: c.x.lambdas ? Float32Array.from(c.x.lambdas) : null,
  };
}

interface Rank {
  pos: Int32Array;
  mine: number[];
  opts: la.LaOpts;
  q: tf.Tensor;
  k: tf.Tensor;
  v: tf.Tensor;
  g: tf.Tensor | null;
  dO: tf.Tensor;
}

export function ranks(c: Case, w: number, layout: Layout, block: number): Rank[] {
  const G = globals(c);
  return Array.from({ length: w }, (_, r) => {
    const segs = rankSegments(c.x.n, w, layout, r);
    const pos = rankPositions(c.x.n, w, layout, r);
    const idx = tf.tensor1d(pos, "int32");
    const take = (x: tf.Tensor): tf.Tensor => tf.gather(x, idx, 1);
    const opts: la.LaOpts = { causal: c.x.causal, block, lambdas: G.lambdas, segLens: segs.map((s) => s.length) };
    return { pos, mine: segs.map((s) => s.chunk), opts, q: take(G.q), k: take(G.k), v: take(G.v), g: G.g ? take(G.g) : null, dO: take(G.dO) };
  });
}

/** Writes a rank's local [BH, C, d] values into the global [BH, N, d] array at its positions. */
function scatter(dst: Float64Array, x: tf.Tensor, pos: Int32Array, n: number, a: ArrayLike<number> = x.dataSync()): void {
  const [bh, c, d] = x.shape as [number, number, number];
  for (let h = 0; h < bh; h++)
    for (let i = 0; i < c; i++)
      for (let e = 0; e < d; e++) dst[(h * n + pos[i]!) * d + e] = a[(h * c + i) * d + e]!;
}

function emptyResult(c: Case): Result {
  const { bh, n, dk, dv } = c.x;
  return {
    o: new Float64Array(bh * n * dv),
    dq: new Float64Array(bh * n * dk),
    dk: new Float64Array(bh * n * dk),
    dv: new Float64Array(bh * n * dv),
    dg: c.x.g ? new Float64Array(bh * n * dk) : null,
  };
}

type RankOut = { o: tf.Tensor; grads: la.LaGrads };

function collect(c: Case, rs: Rank[], outs: RankOut[]): Result {
  const res = emptyResult(c);
  rs.forEach((r, i) => {
    const { o, grads } = outs[i]!;
    scatter(res.o, o, r.pos, c.x.n);
    scatter(res.dq, grads.dq, r.pos, c.x.n);
    scatter(res.dk, grads.dk, r.pos, c.x.n);
    scatter(res.dv, grads.dv, r.pos, c.x.n);
    if (res.dg && grads.dg) scatter(res.dg, grads.dg, r.pos, c.x.n);
  });
  return res;
}

/** LASP-2's outputs on W simulated ranks, as tensors (the caller disposes them). */
function lasp2Outputs(c: Case, w: number, layout: Layout, block: number): { rs: Rank[]; outs: RankOut[] } {
  const rs = ranks(c, w, layout, block);
  const states = rs.map((r) => la.laState(r.k, r.v, r.g, r.opts));
  const ms = tf.concat(states.map((s) => s.m));
  const as = c.x.g ? tf.concat(states.map((s) => s.a!)) : null;
  const chunkIds = rs.flatMap((r) => r.mine);
  const chunkLens = rs.flatMap((r) => r.opts.segLens);
  const ps = rs.map((r) => la.laPrefix(ms, as, chunkIds, chunkLens, r.mine, r.opts));
  const os = rs.map((r, i) => la.laInter(r.q, ps[i]!, la.laIntra(r.q, r.k, r.v, r.g, r.opts), r.g, r.opts));
  const ds = tf.concat(rs.map((r) => la.laBwdState(r.q, r.dO, r.g, r.opts)));
  const outs = rs.map((r, i) => {
    const gs = la.laSuffix(ds, as, chunkIds, chunkLens, r.mine, r.opts);
    const intra = la.laBwdIntra(r.q, r.k, r.v, r.g, r.dO, r.opts);
    return { o: os[i]!, grads: la.laBwdInter(r.q, r.k, r.v, r.g, r.dO, ps[i]!, gs, intra, r.opts) };
  });
  return { rs, outs };
}

/** LASP-2 on W simulated ranks: one gather of the states forward, one of D backward. */
export function simulateLasp2(c: Case, w: number, layout: Layout, block: number): Result {
  return scoped(() => {
    const { rs, outs } = lasp2Outputs(c, w, layout, block);
    return collect(c, rs, outs);
  });
}

/** simulateLasp2 with asynchronous reads (WebGPU in Node has no synchronous read-back). */
export async function simulateLasp2Async(c: Case, w: number, layout: Layout, block: number): Promise<Result> {
  tf.engine().startScope();
  try {
    const { rs, outs } = lasp2Outputs(c, w, layout, block);
    const res = emptyResult(c);
    for (const [i, r] of rs.entries()) {
      const { o, grads } = outs[i]!;
      const pairs: [Float64Array | null, tf.Tensor | null][] = [[res.o, o], [res.dq, grads.dq], [res.dk, grads.dk], [res.dv, grads.dv], [res.dg, grads.dg]];
      for (const [dst, x] of pairs) if (dst !== null && x !== null) scatter(dst, x, r.pos, c.x.n, await x.data());
    }
    return res;
  } finally {
    tf.engine().endScope();
  }
}

/** LASP-1 on W simulated ranks: P carried chunk by chunk in global order, G carried back. */
export function simulateLasp1(c: Case, w: number, layout: Layout, block: number): Result {
  return scoped(() => {
    const rs = ranks(c, w, layout, block);
    const chunks = allChunks(c.x.n, w, layout);
    // owner (rank, segment index) of every global chunk
    const owner = chunks.map((ch) => {
      const r = rs.findIndex((x) => x.mine.includes(ch.chunk));
      return [r, rs[r]!.mine.indexOf(ch.chunk)] as const;
    });
    const states = rs.map((r) => la.laState(r.k, r.v, r.g, r.opts));
    const dstates = rs.map((r) => la.laBwdState(r.q, r.dO, r.g, r.opts));
    const pick = (x: tf.Tensor, s: number): tf.Tensor => tf.squeeze(tf.slice(x, [s], [1]), [0]);
    const { bh, dk, dv } = c.x;
    const pIn: tf.Tensor[] = [];
    let p: tf.Tensor = tf.zeros([bh, dk, dv]);
    for (const [ci, [r, s]] of owner.entries()) {
      pIn.push(p);
      const a = states[r]!.a;
      p = la.laCarry(p, pick(states[r]!.m, s), a ? pick(a, s) : null, chunks[ci]!.length, rs[r]!.opts.lambdas);
    }
    const gIn: tf.Tensor[] = new Array<tf.Tensor>(chunks.length);
    let gacc: tf.Tensor = tf.zeros([bh, dk, dv]);
    for (let ci = chunks.length - 1; ci >= 0; ci--) {
      gIn[ci] = gacc;
      const [r, s] = owner[ci]!;
      const a = states[r]!.a;
      gacc = la.laCarry(gacc, pick(dstates[r]!, s), a ? pick(a, s) : null, chunks[ci]!.length, rs[r]!.opts.lambdas);
    }
    const outs = rs.map((r) => {
      const p = tf.stack(r.mine.map((ch) => pIn[ch]!));
      const gs = tf.stack(r.mine.map((ch) => gIn[ch]!));
      const o = la.laInter(r.q, p, la.laIntra(r.q, r.k, r.v, r.g, r.opts), r.g, r.opts);
      const intra = la.laBwdIntra(r.q, r.k, r.v, r.g, r.dO, r.opts);
      return { o, grads: la.laBwdInter(r.q, r.k, r.v, r.g, r.dO, p, gs, intra, r.opts) };
    });
    return collect(c, rs, outs);
  });
}

/** Ring on W simulated ranks: own segments by laIntra, every other earlier (or, bidirectional, other) chunk by laCross. */
export function simulateRing(c: Case, w: number, layout: Layout, block: number): Result {
  return scoped(() => {
    const rs = ranks(c, w, layout, block);
    const res = emptyResult(c);
    // every segment of every rank: its tensors and positions
    const blocks = rs.flatMap((r, ri) => {
      let off = 0;
      return r.opts.segLens.map((len, si) => {
        const sl = (x: tf.Tensor): tf.Tensor => tf.slice(x, [0, off, 0], [-1, len, -1]);
        const b = { ri, chunk: r.mine[si]!, q: sl(r.q), k: sl(r.k), v: sl(r.v), dO: sl(r.dO), pos: r.pos.slice(off, off + len) };
        off += len;
        return b;
      });
    });
    const dk: tf.Tensor[] = blocks.map((b) => tf.zerosLike(b.k));
    const dv: tf.Tensor[] = blocks.map((b) => tf.zerosLike(b.v));
    const dq: tf.Tensor[] = blocks.map((b) => tf.zerosLike(b.q));
    const o: tf.Tensor[] = blocks.map((b) => tf.zeros([b.q.shape[0], b.q.shape[1]!, c.x.dv]));
    blocks.forEach((bq, i) =>
      blocks.forEach((bk, j) => {
        const use = c.x.causal ? bk.chunk < bq.chunk : bk.chunk !== bq.chunk;
        if (!use) return;
        const lam = rs[0]!.opts.lambdas;
        o[i] = tf.add(o[i]!, la.laCross(bq.q, bq.pos, bk.k, bk.v, bk.pos, lam, c.x.causal));
        const gr = la.laCrossBwd(bq.q, bq.pos, bk.k, bk.v, bk.pos, lam, bq.dO, c.x.causal);
        dq[i] = tf.add(dq[i]!, gr.dq);
        dk[j] = tf.add(dk[j]!, gr.dk);
        dv[j] = tf.add(dv[j]!, gr.dv);
      }),
    );
    rs.forEach((r, ri) => {
      const mineIdx = blocks.map((b, i) => [b, i] as const).filter(([b]) => b.ri === ri).map(([, i]) => i);
      const cat = (xs: tf.Tensor[]): tf.Tensor => tf.concat(mineIdx.map((i) => xs[i]!), 1);
      const oi = tf.add(la.laIntra(r.q, r.k, r.v, r.g, r.opts), cat(o));
      const gi = la.laBwdIntra(r.q, r.k, r.v, r.g, r.dO, r.opts);
      scatter(res.o, oi, r.pos, c.x.n);
      scatter(res.dq, tf.add(gi.dq, cat(dq)), r.pos, c.x.n);
      scatter(res.dk, tf.add(gi.dk, cat(dk)), r.pos, c.x.n);
      scatter(res.dv, tf.add(gi.dv, cat(dv)), r.pos, c.x.n);
    });
    return res;
  });
}
