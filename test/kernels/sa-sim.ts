// Simulated sequence parallelism for softmax attention in one process: LASP-2H (AllGather K/V, then
// ReduceScatter dK/dV), ring (saMerge of blocks, per-block backward) and Ulysses (head shards).
// "Communication" is plain JS on float64 arrays; the float64 oracle gives the reference.
import * as tf from "@tensorflow/tfjs-core";
import { saBackward, saForward, saMerge, type SaPartial } from "../../runtime/kernels/softmax-attention.ts";
import { rankPositions } from "../../compiler/plan/partition.ts";
import type { Layout } from "../../dsl/spec.ts";
import { naiveSaBackward, naiveSaForward } from "../oracle/softmax-attention.ts";
import { randArray } from "../oracle/random.ts";
import { addHeads, addTokens, concatI32, gatherTokens, read, t3, takeHeads, takeTokens } from "./sa-harness.ts";

export interface Case {
  n: number;
  b: number;
  h: number;
  hkv: number;
  dk: number;
  dv: number;
  causal: boolean;
  block: number;
}

export interface Global {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  dO: Float64Array;
  ref: { o: Float64Array; dq: Float64Array; dk: Float64Array; dv: Float64Array };
}

export function makeGlobal(c: Case, seed: number): Global {
  const bh = c.b * c.h;
  const bhkv = c.b * c.hkv;
  const q = randArray(bh * c.n * c.dk, seed, 2);
  const k = randArray(bhkv * c.n * c.dk, seed + 1, 2);
  const v = randArray(bhkv * c.n * c.dv, seed + 2);
  const dO = randArray(bh * c.n * c.dv, seed + 3);
  const pos = Int32Array.from({ length: c.n }, (_, i) => i);
  const shape = { bh, groups: c.h / c.hkv, cq: c.n, ck: c.n, dk: c.dk, dv: c.dv, causal: c.causal, posQ: pos, posK: pos };
  const o = naiveSaForward(shape, q, k, v);
  return { q, k, v, dO, ref: { o, ...naiveSaBackward(shape, q, k, v, dO) } };
}

export interface Result {
  o: Float64Array;
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
}

function emptyResult(c: Case): Result {
  return {
    o: new Float64Array(c.b * c.h * c.n * c.dv),
    dq: new Float64Array(c.b * c.h * c.n * c.dk),
    dk: new Float64Array(c.b * c.hkv * c.n * c.dk),
    dv: new Float64Array(c.b * c.hkv * c.n * c.dv),
  };
}

/** Each rank's local q, k, v, dO (tokens at its global positions). */
function shard(c: Case, g: Global, w: number, layout: Layout) {
  const bh = c.b * c.h;
  const bhkv = c.b * c.hkv;
  return Array.from({ length: w }, (_, r) => {
    const pos = rankPositions(c.n, w, layout, r);
    return {
      pos,
      q: takeTokens(g.q, bh, c.n, c.dk, pos),
      k: takeTokens(g.k, bhkv, c.n, c.dk, pos),
      v: takeTokens(g.v, bhkv, c.n, c.dv, pos),
      dO: takeTokens(g.dO, bh, c.n, c.dv, pos),
    };
  });
}

/** LASP-2H: AllGather K, V (rank order); each rank attends locally; ReduceScatter of dK, dV. */
export function runLasp2h(c: Case, g: Global, w: number, layout: Layout): Result {
  const bh = c.b * c.h;
  const bhkv = c.b * c.hkv;
  const ranks = shard(c, g, w, layout);
  const lens = ranks.map((r) => r.pos.length);
  const posAll = concatI32(ranks.map((r) => r.pos));
  const kAll = gatherTokens(ranks.map((r) => r.k), lens, bhkv, c.dk);
  const vAll = gatherTokens(ranks.map((r) => r.v), lens, bhkv, c.dv);
  const out = emptyResult(c);
  const opts = { causal: c.causal, block: c.block, groups: c.h / c.hkv };
  for (const r of ranks) {
    tf.tidy(() => {
      const q = t3(r.q, bh, r.pos.length, c.dk);
      const k = t3(kAll, bhkv, c.n, c.dk);
      const v = t3(vAll, bhkv, c.n, c.dv);
      const dO = t3(r.dO, bh, r.pos.length, c.dv);
      const { o, lse } = saForward(q, k, v, r.pos, posAll, opts);
      const gr = saBackward(q, k, v, o, lse, dO, r.pos, posAll, opts);
      addTokens(out.o, read(o), bh, c.n, c.dv, r.pos);
      addTokens(out.dq, read(gr.dq), bh, c.n, c.dk, r.pos);
      addTokens(out.dk, read(gr.dk), bhkv, c.n, c.dk, posAll);
      addTokens(out.dv, read(gr.dv), bhkv, c.n, c.dv, posAll);
    });
  }
  return out;
}

/** Ring: K/V blocks travel around the ring, merged with saMerge; backward per block, final lse. */
export function runRing(c: Case, g: Global, w: number, layout: Layout): Result {
  const bh = c.b * c.h;
  const bhkv = c.b * c.hkv;
  const ranks = shard(c, g, w, layout);
  const out = emptyResult(c);
  const opts = { causal: c.causal, block: c.block, groups: c.h / c.hkv };
  ranks.forEach((r, t) => {
    tf.tidy(() => {
      const q = t3(r.q, bh, r.pos.length, c.dk);
      const dO = t3(r.dO, bh, r.pos.length, c.dv);
      const order = Array.from({ length: w }, (_, step) => (t - step + w) % w);
      const kv = order.map((s) => ({
        s,
        k: t3(ranks[s]!.k, bhkv, ranks[s]!.pos.length, c.dk),
        v: t3(ranks[s]!.v, bhkv, ranks[s]!.pos.length, c.dv),
      }));
      let acc: SaPartial | null = null;
      for (const blk of kv) {
        const part = saForward(q, blk.k, blk.v, r.pos, ranks[blk.s]!.pos, opts);
        acc = acc === null ? part : saMerge(acc, part);
      }
      const fin = acc!;
      if (!Array.from(fin.lse.dataSync()).every(Number.isFinite)) throw new Error("ring: non-finite lse");
      for (const blk of kv) {
        const sp = ranks[blk.s]!.pos;
        const gr = saBackward(q, blk.k, blk.v, fin.o, fin.lse, dO, r.pos, sp, opts);
        addTokens(out.dq, read(gr.dq), bh, c.n, c.dk, r.pos);
        addTokens(out.dk, read(gr.dk), bhkv, c.n, c.dk, sp);
        addTokens(out.dv, read(gr.dv), bhkv, c.n, c.dv, sp);
      }
      addTokens(out.o, read(fin.o), bh, c.n, c.dv, r.pos);
    });
  });
  return out;
}

/** Ulysses: all-to-all to a head shard over the whole sequence (gathered in rank order), and back. */
export function runUlysses(c: Case, g: Global, w: number, layout: Layout): Result {
  const groups = c.h / c.hkv;
  const hpr = c.h / w;
  const ranks = shard(c, g, w, layout);
  const lens = ranks.map((r) => r.pos.length);
  const posAll = concatI32(ranks.map((r) => r.pos));
  const bh = c.b * c.h;
  const bhkv = c.b * c.hkv;
  // the all-to-all: every rank's tokens for all heads, in rank order
  const qSeq = gatherTokens(ranks.map((r) => r.q), lens, bh, c.dk);
  const kSeq = gatherTokens(ranks.map((r) => r.k), lens, bhkv, c.dk);
  const vSeq = gatherTokens(ranks.map((r) => r.v), lens, bhkv, c.dv);
  const dOSeq = gatherTokens(ranks.map((r) => r.dO), lens, bh, c.dv);
  const out = emptyResult(c);
  for (let r = 0; r < w; r++) {
    const h0 = r * hpr;
    const kvLo = Math.floor(h0 / groups);
    const kvHi = Math.floor((h0 + hpr - 1) / groups) + 1;
    const qIds: number[] = [];
    const kvIds: number[] = [];
    for (let b = 0; b < c.b; b++) {
      for (let h = h0; h < h0 + hpr; h++) qIds.push(b * c.h + h);
      for (let h = kvLo; h < kvHi; h++) kvIds.push(b * c.hkv + h);
    }
    const opts = { causal: c.causal, block: c.block, groups: qIds.length / kvIds.length };
    tf.tidy(() => {
      const q = t3(takeHeads(qSeq, c.n, c.dk, qIds), qIds.length, c.n, c.dk);
      const k = t3(takeHeads(kSeq, c.n, c.dk, kvIds), kvIds.length, c.n, c.dk);
      const v = t3(takeHeads(vSeq, c.n, c.dv, kvIds), kvIds.length, c.n, c.dv);
      const dO = t3(takeHeads(dOSeq, c.n, c.dv, qIds), qIds.length, c.n, c.dv);
      const { o, lse } = saForward(q, k, v, posAll, posAll, opts);
      const gr = saBackward(q, k, v, o, lse, dO, posAll, posAll, opts);
      // back to sequence order: scatter by global positions
      const put = (into: Float64Array, t: tf.Tensor, ids: number[], d: number, heads: number) => {
        const full = new Float64Array(heads * c.n * d);
        addHeads(full, read(t), c.n, d, ids.map((_, i) => i));
        const seqOrder = new Float64Array(ids.length * c.n * d);
        addTokens(seqOrder, full.subarray(0, ids.length * c.n * d), ids.length, c.n, d, posAll);
        addHeads(into, seqOrder, c.n, d, ids);
      };
      put(out.o, o, qIds, c.dv, qIds.length);
      put(out.dq, gr.dq, qIds, c.dk, qIds.length);
      put(out.dk, gr.dk, kvIds, c.dk, kvIds.length);
      put(out.dv, gr.dv, kvIds, c.dv, kvIds.length);
    });
  }
  return out;
}

