// The linear-attention kernels on the pure-JS cpu backend (they must work on any tfjs backend), and
// every piece frees its intermediates: only the tensors it returns stay alive.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.ts";
import * as la from "../../runtime/kernels/linear-attention.ts";
import { globals, makeCase, oracle, simulateLasp2, worst, type Variant } from "./linear-harness.ts";

beforeAll(async () => {
  await initBackend("cpu");
});

describe("cpu backend", () => {
  for (const variant of ["decay", "gated", "bidir"] as Variant[])
    it(`${variant} N=37 W=3 zigzag block 8 matches the oracle`, () => {
      const c = makeCase(3, 37, 5, 3, variant, 77);
      const errs = worst(simulateLasp2(c, 3, "zigzag", 8), oracle(c));
      for (const [name, e] of Object.entries(errs)) expect(e, name).toBeLessThan(1e-4);
    });

  it("no piece leaks tensors (gated, two segments, block 4)", () => {
    const c = makeCase(2, 19, 3, 2, "gated+decay", 3);
    const G = globals(c);
    const opts: la.LaOpts = { causal: true, block: 4, lambdas: G.lambdas, segLens: [11, 8] };
    const before = tf.memory().numTensors;
    const st = la.laState(G.k, G.v, G.g, opts);
    const oi = la.laIntra(G.q, G.k, G.v, G.g, opts);
    const p = la.laPrefix(st.m, st.a, [0, 1], [11, 8], [0, 1], opts);
    const o = la.laInter(G.q, p, oi, G.g, opts);
    const d = la.laBwdState(G.q, G.dO, G.g, opts);
    const gs = la.laSuffix(d, st.a, [0, 1], [11, 8], [0, 1], opts);
    const intra = la.laBwdIntra(G.q, G.k, G.v, G.g, G.dO, opts);
    const grads = la.laBwdInter(G.q, G.k, G.v, G.g, G.dO, p, gs, intra, opts);
    const pos = Int32Array.from({ length: 8 }, (_, i) => 11 + i);
    const kpos = Int32Array.from({ length: 11 }, (_, i) => i);
    const sl = (x: tf.Tensor, off: number, len: number): tf.Tensor => tf.slice(x, [0, off, 0], [-1, len, -1]);
    const [q2, k1, v1, dO2] = [sl(G.q, 11, 8), sl(G.k, 0, 11), sl(G.v, 0, 11), sl(G.dO, 11, 8)];
    const x = la.laCross(q2, pos, k1, v1, kpos, G.lambdas);
    const xb = la.laCrossBwd(q2, pos, k1, v1, kpos, G.lambdas, dO2);
    const carry = la.laCarry(tf.zeros([2, 3, 2]), tf.ones([2, 3, 2]), null, 5, G.lambdas);
    const kept = [st.m, st.a!, oi, p, o, d, gs, intra.dq, intra.dk, intra.dv, intra.dg!, grads.dq, grads.dk, grads.dv, grads.dg!];
    kept.push(q2, k1, v1, dO2, x, xb.dq, xb.dk, xb.dv, carry);
    // what the pieces returned, plus the two inputs made for laCarry
    expect(tf.memory().numTensors - before).toBe(kept.length + 2);
    tf.dispose(kept);
  });
});
