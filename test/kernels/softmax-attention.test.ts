// Softmax attention on W simulated ranks (LASP-2H gathered K/V, ring with saMerge, Ulysses head shards)
// against the float64 full-matrix oracle: o, dq, dk, dv; causal and bidirectional, GQA, odd sizes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../runtime/backend/index.ts";
import { saBackward, saForward, saMerge, SA_EMPTY_LSE, type SaPartial } from "../../runtime/kernels/softmax-attention.ts";
import { blockMask } from "../../runtime/kernels/softmax-mask.ts";
import { rankPositions } from "../../compiler/plan/partition.ts";
import type { Layout } from "../../dsl/spec.ts";
import { naiveSaBackward, naiveSaForward } from "../oracle/softmax-attention.ts";
import { randArray, relErr } from "../oracle/random.ts";
import { addHeads, addTokens, concatI32, gatherTokens, read, t3, takeHeads, takeTokens } from "./sa-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

const TOL = 1e-4;
/** Largest relative error seen per quantity, printed once at the end (for reports). */
const worst = { o: 0, dq: 0, dk: 0, dv: 0 };
afterAll(() => {
  console.log(`softmax attention worst relative errors: ${JSON.stringify(worst)}`);
});

interface Case {
  n: number;
  b: number;
  h: number;
  hkv: number;
  dk: number;
  dv: number;
  causal: boolean;
  block: number;
}

interface Global {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  dO: Float64Array;
  ref: { o: Float64Array; dq: Float64Array; dk: Float64Array; dv: Float64Array };
}

function makeGlobal(c: Case, seed: number): Global {
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

interface Result {
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

function expectClose(got: Result, g: Global): void {
  for (const key of ["o", "dq", "dk", "dv"] as const) {
    const e = relErr(got[key], g.ref[key]);
    worst[key] = Math.max(worst[key], e);
    expect(e, key).toBeLessThan(TOL);
  }
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
function runLasp2h(c: Case, g: Global, w: number, layout: Layout): Result {
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
function runRing(c: Case, g: Global, w: number, layout: Layout): Result {
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
      expect(Array.from(fin.lse.dataSync()).every(Number.isFinite)).toBe(true);
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
function runUlysses(c: Case, g: Global, w: number, layout: Layout): Result {
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

const layouts: Layout[] = ["contiguous", "zigzag"];
const sizes = [37, 50];

describe("softmax attention under simulated SP equals the float64 oracle", () => {
  for (const causal of [true, false])
    for (const n of sizes)
      for (const layout of layouts)
        for (const w of [1, 2, 3, 4]) {
          const c: Case = { n, b: 2, h: 4, hkv: 2, dk: 5, dv: 3, causal, block: 8 };
          const name = `${causal ? "causal" : "bidir"} N=${n} ${layout} W=${w}`;
          it(`LASP-2H ${name}`, () => {
            const g = makeGlobal(c, 11 + n + w);
            expectClose(runLasp2h(c, g, w, layout), g);
          });
          it(`ring ${name}`, () => {
            const g = makeGlobal(c, 23 + n + w);
            expectClose(runRing(c, g, w, layout), g);
          });
          it(`Ulysses ${name}`, () => {
            const cu = w === 3 ? { ...c, h: 6, hkv: 3 } : c;
            const g = makeGlobal(cu, 37 + n + w);
            expectClose(runUlysses(cu, g, w, layout), g);
          });
        }
});

describe("softmax attention with empty chunks (N < chunks)", () => {
  for (const layout of layouts)
    for (const causal of [true, false]) {
      const c: Case = { n: 5, b: 1, h: 4, hkv: 2, dk: 3, dv: 2, causal, block: 2 };
      const name = `${causal ? "causal" : "bidir"} N=5 ${layout} W=4`;
      it(`LASP-2H, ring, Ulysses ${name}`, () => {
        const g = makeGlobal(c, 71);
        expectClose(runLasp2h(c, g, 4, layout), g);
        expectClose(runRing(c, g, 4, layout), g);
        expectClose(runUlysses(c, g, 4, layout), g);
      });
    }
});

describe("softmax attention single-call cases", () => {
  it("MHA (groups 1), block larger than the chunk, dk 3 dv 4", () => {
    const c: Case = { n: 13, b: 1, h: 3, hkv: 3, dk: 3, dv: 4, causal: true, block: 64 };
    const g = makeGlobal(c, 5);
    expectClose(runLasp2h(c, g, 1, "contiguous"), g);
  });
  it("block 1 and GQA groups 4", () => {
    const c: Case = { n: 9, b: 1, h: 4, hkv: 1, dk: 2, dv: 2, causal: true, block: 1 };
    const g = makeGlobal(c, 6);
    expectClose(runLasp2h(c, g, 3, "zigzag"), g);
  });
  it("a query row that sees no key gives o = 0, a finite lse, and merges as the identity", () => {
    const q = tf.randomNormal([2, 3, 4]) as tf.Tensor3D;
    const k = tf.randomNormal([1, 5, 4]) as tf.Tensor3D;
    const v = tf.randomNormal([1, 5, 2]) as tf.Tensor3D;
    const opts = { causal: true, block: 2, groups: 2 };
    // queries at 0, 7, 9; keys at 8..12: query 0 and 7 see nothing, 9 sees keys 8 and 9
    const posQ = Int32Array.from([0, 7, 9]);
    const posK = Int32Array.from([8, 9, 10, 11, 12]);
    const part = saForward(q, k, v, posQ, posK, opts);
    const o = part.o.arraySync();
    const lse = part.lse.arraySync();
    for (let h = 0; h < 2; h++)
      for (const i of [0, 1]) {
        expect(o[h]![i]).toEqual([0, 0]);
        expect(lse[h]![i]).toBeLessThanOrEqual(SA_EMPTY_LSE / 2);
      }
    expect(Number.isFinite(lse[0]![2])).toBe(true);
    const none = saForward(q, k, v, posQ, Int32Array.from([20, 21, 22, 23, 24]), opts);
    const merged = saMerge(none, part);
    expect(relErr(merged.o.dataSync(), part.o.dataSync())).toBeLessThan(1e-7);
    expect(relErr(merged.lse.dataSync().slice(), part.lse.dataSync().slice())).toBeLessThan(1e-7);
    const both = saMerge(none, none);
    expect(Array.from(both.o.dataSync()).every((x) => x === 0)).toBe(true);
    expect(Array.from(both.lse.dataSync()).every(Number.isFinite)).toBe(true);
    const dO = tf.randomNormal([2, 3, 2]) as tf.Tensor3D;
    const gr = saBackward(q, k, v, none.o, none.lse, dO, posQ, Int32Array.from([20, 21, 22, 23, 24]), opts);
    for (const t of [gr.dq, gr.dk, gr.dv]) expect(Array.from(t.dataSync()).every((x) => x === 0)).toBe(true);
  });
  it("blockMask skips key tiles no query can see and leaves fully visible tiles unmasked", () => {
    const posQ = Int32Array.from([4, 5, 6, 7]);
    const posK = Int32Array.from([0, 1, 2, 3, 8, 9, 5, 6]);
    expect(blockMask(posQ, 0, 4, posK, 0, 4, true, 2).kind).toBe("full");
    expect(blockMask(posQ, 0, 4, posK, 4, 2, true, 2).kind).toBe("skip");
    const m = blockMask(posQ, 0, 4, posK, 6, 2, true, 2);
    expect(m.kind).toBe("mask");
    if (m.kind === "mask") expect(Array.from(m.keep.slice(0, 8))).toEqual([0, 0, 1, 0, 1, 1, 1, 1]);
    expect(blockMask(posQ, 0, 4, posK, 4, 2, false, 2).kind).toBe("full");
  });
});
