// RoPE (global positions, odd head dim) and the short causal conv with halo (segments, SP split) forward
// and backward against float64 oracles (backward: central differences of the float64 forward).
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../runtime/backend/index.ts";
import { rope, ropeBackward } from "../../runtime/kernels/rope.ts";
import { causalConv, causalConvBackward } from "../../runtime/kernels/conv.ts";
import { rankPositions, rankSegments } from "../../compiler/plan/partition.ts";
import * as O from "../oracle/dense.ts";
import { numericVjp } from "../oracle/numeric-vjp.ts";
import { randArray } from "../oracle/random.ts";
import { close, f64, ten } from "./dense-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("RoPE", () => {
  for (const [d, theta] of [
    [6, 10000],
    [5, 10000],
    [8, 7.5],
  ] as const)
    it(`d=${d} theta=${theta}, zigzag-like positions: forward and backward`, () => {
      const bh = 3;
      const pos = Int32Array.from([0, 1, 2, 45, 46, 1000, 1001]);
      const x = randArray(bh * pos.length * d, d * 7);
      const dy = randArray(bh * pos.length * d, d * 7 + 1);
      const f = (a: readonly Float64Array[]) => O.rope(a[0]!, bh, pos, d, theta);
      const [gx] = numericVjp(f, [x], dy, [0]);
      close(rope(ten(x, [bh, pos.length, d]) as tf.Tensor3D, pos, theta), f([x]));
      close(ropeBackward(ten(dy, [bh, pos.length, d]) as tf.Tensor3D, pos, theta), gx!);
    });

  it("scores of rotated q and k depend only on the position difference", () => {
    const d = 6;
    const q = ten(randArray(d, 90), [1, 1, d]) as tf.Tensor3D;
    const k = ten(randArray(d, 91), [1, 1, d]) as tf.Tensor3D;
    const score = (pq: number, pk: number) => {
      const a = f64(rope(q, Int32Array.from([pq]), 10000));
      const b = f64(rope(k, Int32Array.from([pk]), 10000));
      return a.reduce((s, v, i) => s + v * b[i]!, 0);
    };
    expect(Math.abs(score(5, 2) - score(105, 102))).toBeLessThan(1e-4);
    expect(Math.abs(score(5, 2) - score(5, 4))).toBeGreaterThan(1e-3);
  });
});

describe("short causal conv with halo", () => {
  const cases = [
    { b: 2, segLens: [7], kc: 4, d: 5 },
    { b: 2, segLens: [4, 3], kc: 4, d: 3 },
    { b: 1, segLens: [2, 5], kc: 3, d: 4 },
    { b: 3, segLens: [5], kc: 1, d: 2 },
  ];
  for (const cs of cases)
    it(`B=${cs.b} segments ${cs.segLens} kc=${cs.kc} D=${cs.d}: forward, dx, dw, dhalo`, () => {
      const c = cs.segLens.reduce((s, l) => s + l, 0);
      const nh = cs.b * cs.segLens.length * (cs.kc - 1);
      const x = randArray(cs.b * c * cs.d, 30 + c);
      const halo = randArray(nh * cs.d, 31 + c);
      const w = randArray(cs.kc * cs.d, 32 + c);
      const dy = randArray(cs.b * c * cs.d, 33 + c);
      const f = (a: readonly Float64Array[]) => O.causalConv(a[0]!, a[1]!, a[2]!, cs.b, cs.segLens, cs.kc, cs.d);
      const [gx, gh, gw] = numericVjp(f, [x, halo, w], dy, [0, 1, 2]);
      const xt = ten(x, [cs.b * c, cs.d]) as tf.Tensor2D;
      const ht = ten(halo, [nh, cs.d]) as tf.Tensor2D;
      const wt = ten(w, [cs.kc, cs.d]) as tf.Tensor2D;
      const opts = { batch: cs.b, segLens: cs.segLens };
      close(causalConv(xt, ht, wt, opts), f([x, halo, w]));
      const r = causalConvBackward(xt, ht, wt, ten(dy, [cs.b * c, cs.d]) as tf.Tensor2D, opts);
      close(r.dx, gx!);
      close(r.dw, gw!);
      if (nh > 0) close(r.dhalo, gh!);
      expect(r.dhalo.shape).toEqual([nh, cs.d]);
    });

  it("W=3 zigzag ranks with halos from the previous global tokens equal the single-device conv", () => {
    const [b, n, kc, d, w] = [2, 23, 3, 4, 3];
    const xg = randArray(b * n * d, 40);
    const wk = randArray(kc * d, 41);
    const ref = O.causalConv(xg, new Float64Array(b * (kc - 1) * d), wk, b, [n], kc, d);
    const got = new Float64Array(b * n * d);
    const dyg = randArray(b * n * d, 42);
    const [refDx] = numericVjp((a) => O.causalConv(a[0]!, new Float64Array(b * (kc - 1) * d), wk, b, [n], kc, d), [xg], dyg, [0]);
    const dxg = new Float64Array(b * n * d);
    for (let r = 0; r < w; r++) {
      const pos = rankPositions(n, w, "zigzag", r);
      const segs = rankSegments(n, w, "zigzag", r);
      const segLens = segs.map((g) => g.length);
      const segStart = segs.map((g) => g.start);
      const x = new Float64Array(b * pos.length * d);
      const dy = new Float64Array(b * pos.length * d);
      const halo = new Float64Array(b * 2 * (kc - 1) * d);
      for (let bi = 0; bi < b; bi++) {
        pos.forEach((p, i) => {
          for (let ch = 0; ch < d; ch++) {
            x[(bi * pos.length + i) * d + ch] = xg[(bi * n + p) * d + ch]!;
            dy[(bi * pos.length + i) * d + ch] = dyg[(bi * n + p) * d + ch]!;
          }
        });
        for (let s = 0; s < 2; s++)
          for (let j = 0; j < kc - 1; j++) {
            const p = segStart[s]! - (kc - 1) + j;
            for (let ch = 0; ch < d; ch++)
              halo[((bi * 2 + s) * (kc - 1) + j) * d + ch] = p >= 0 ? xg[(bi * n + p) * d + ch]! : 0;
          }
      }
      const opts = { batch: b, segLens };
      const xt = ten(x, [b * pos.length, d]) as tf.Tensor2D;
      const ht = ten(halo, [b * 2 * (kc - 1), d]) as tf.Tensor2D;
      const y = f64(causalConv(xt, ht, ten(wk, [kc, d]) as tf.Tensor2D, opts));
      const g = causalConvBackward(xt, ht, ten(wk, [kc, d]) as tf.Tensor2D, ten(dy, [b * pos.length, d]) as tf.Tensor2D, opts);
      const dx = f64(g.dx);
      const dh = f64(g.dhalo);
      for (let bi = 0; bi < b; bi++) {
        pos.forEach((p, i) => {
          for (let ch = 0; ch < d; ch++) {
            got[(bi * n + p) * d + ch] = y[(bi * pos.length + i) * d + ch]!;
            dxg[(bi * n + p) * d + ch]! += dx[(bi * pos.length + i) * d + ch]!;
          }
        });
        // dhalo goes back to whoever holds those tokens
        for (let s = 0; s < 2; s++)
          for (let j = 0; j < kc - 1; j++) {
            const p = segStart[s]! - (kc - 1) + j;
            if (p >= 0) for (let ch = 0; ch < d; ch++) dxg[(bi * n + p) * d + ch]! += dh[((bi * 2 + s) * (kc - 1) + j) * d + ch]!;
          }
      }
    }
    close(got, ref);
    close(dxg, refDx!);
  });
});
