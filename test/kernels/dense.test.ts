// Dense ops (matmul, SwiGLU, GELU, RMSNorm, LayerNorm, embedding, heads/unheads, repeat_kv) forward and
// backward against float64 oracles (backward: central differences of the float64 forward), odd sizes.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../runtime/backend/index.ts";
import { gelu, geluBackward, matmul, matmulBackward, swiglu, swigluBackward } from "../../runtime/kernels/dense.ts";
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from "../../runtime/kernels/norm.ts";
import { embedding, embeddingBackward } from "../../runtime/kernels/embed.ts";
import { heads, repeatKv, repeatKvBackward, unheads } from "../../runtime/kernels/heads.ts";
import { gateProj, gateProjBackward } from "../../runtime/kernels/gate.ts";
import * as O from "../oracle/dense.ts";
import { numericVjp } from "../oracle/numeric-vjp.ts";
import { randArray } from "../oracle/random.ts";
import { close, f64, ten } from "./dense-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("dense ops vs float64 oracles", () => {
  it("matmul [7,5] x [5,3] forward, dx, dw", () => {
    const [t, din, dout] = [7, 5, 3];
    const x = randArray(t * din, 1);
    const w = randArray(din * dout, 2);
    const dy = randArray(t * dout, 3);
    const f = (a: readonly Float64Array[]) => O.matmul(a[0]!, a[1]!, t, din, dout);
    const [gx, gw] = numericVjp(f, [x, w], dy, [0, 1]);
    const xt = ten(x, [t, din]) as tf.Tensor2D;
    const wt = ten(w, [din, dout]) as tf.Tensor2D;
    close(matmul(xt, wt), f([x, w]));
    const g = matmulBackward(xt, wt, ten(dy, [t, dout]) as tf.Tensor2D);
    close(g.dx, gx!);
    close(g.dw, gw!);
  });

  it("SwiGLU [7,9] forward, dg, du", () => {
    const n = 63;
    const g = randArray(n, 4, 3);
    const u = randArray(n, 5, 2);
    const dy = randArray(n, 6);
    const f = (a: readonly Float64Array[]) => O.swiglu(a[0]!, a[1]!);
    const [gg, gu] = numericVjp(f, [g, u], dy, [0, 1]);
    const gt = ten(g, [7, 9]);
    const ut = ten(u, [7, 9]);
    close(swiglu(gt, ut), f([g, u]));
    const r = swigluBackward(gt, ut, ten(dy, [7, 9]));
    close(r.dg, gg!);
    close(r.du, gu!);
  });

  it("GELU (tanh) [5,7] forward and backward", () => {
    const x = randArray(35, 7, 4);
    const dy = randArray(35, 8);
    const f = (a: readonly Float64Array[]) => O.gelu(a[0]!);
    const [gx] = numericVjp(f, [x], dy, [0]);
    close(gelu(ten(x, [5, 7])), f([x]));
    close(geluBackward(ten(x, [5, 7]), ten(dy, [5, 7])), gx!);
  });

  it("RMSNorm [7,5] eps 1e-5 forward, dx, dw", () => {
    const [t, d, eps] = [7, 5, 1e-5];
    const x = randArray(t * d, 9, 2);
    const w = randArray(d, 10, 1.5);
    const dy = randArray(t * d, 11);
    const f = (a: readonly Float64Array[]) => O.rmsNorm(a[0]!, a[1]!, t, d, eps);
    const [gx, gw] = numericVjp(f, [x, w], dy, [0, 1]);
    const xt = ten(x, [t, d]) as tf.Tensor2D;
    const wt = ten(w, [d]) as tf.Tensor1D;
    close(rmsNorm(xt, wt, eps), f([x, w]));
    const r = rmsNormBackward(xt, wt, ten(dy, [t, d]) as tf.Tensor2D, eps);
    close(r.dx, gx!);
    close(r.dw, gw!);
  });

  it("LayerNorm [6,7] with bias, eps 1e-5 forward, dx, dw, db", () => {
    const [t, d, eps] = [6, 7, 1e-5];
    const x = randArray(t * d, 12, 2);
    const w = randArray(d, 13, 1.5);
    const b = randArray(d, 14);
    const dy = randArray(t * d, 15);
    const f = (a: readonly Float64Array[]) => O.layerNorm(a[0]!, a[1]!, a[2]!, t, d, eps);
    const [gx, gw, gb] = numericVjp(f, [x, w, b], dy, [0, 1, 2]);
    const xt = ten(x, [t, d]) as tf.Tensor2D;
    const wt = ten(w, [d]) as tf.Tensor1D;
    close(layerNorm(xt, wt, ten(b, [d]) as tf.Tensor1D, eps), f([x, w, b]));
    close(layerNorm(xt, wt, null, eps), O.layerNorm(x, w, new Float64Array(d), t, d, eps));
    const r = layerNormBackward(xt, wt, ten(dy, [t, d]) as tf.Tensor2D, eps);
    close(r.dx, gx!);
    close(r.dw, gw!);
    close(r.db, gb!);
  });

  it("embedding with repeated ids: gather forward, scatter-add backward", () => {
    const [v, d] = [11, 5];
    const ids = Int32Array.from([3, 0, 10, 3, 7, 3, 0]);
    const w = randArray(v * d, 16);
    const dy = randArray(ids.length * d, 17);
    const f = (a: readonly Float64Array[]) => O.embedding(ids, a[0]!, d);
    const [gw] = numericVjp(f, [w], dy, [0]);
    close(embedding(ids, ten(w, [v, d]) as tf.Tensor2D), f([w]));
    close(embeddingBackward(ids, ten(dy, [ids.length, d]) as tf.Tensor2D, v), gw!);
    expect(() => embedding(Int32Array.from([11]), ten(w, [v, d]) as tf.Tensor2D)).toThrow(RangeError);
  });

  it("heads / unheads: layout and inverse (each is the other's backward)", () => {
    const [b, c, n, d] = [2, 5, 3, 7];
    const x = randArray(b * c * n * d, 18);
    const h = heads(ten(x, [b * c, n * d]) as tf.Tensor2D, b, n);
    expect(h.shape).toEqual([b * n, c, d]);
    close(h, O.heads(x, b, c, n, d), 1e-7);
    close(unheads(h, b), x, 1e-7);
    // backward of heads is unheads: <heads(x), dy> = <x, unheads(dy)>
    const dy = randArray(b * c * n * d, 19);
    const [gx] = numericVjp((a) => O.heads(a[0]!, b, c, n, d), [x], dy, [0]);
    close(unheads(ten(dy, [b * n, c, d]) as tf.Tensor3D, b), gx!);
  });

  it("repeat_kv (groups 3) and its backward (sum over the groups)", () => {
    const [bhkv, groups, c, d] = [4, 3, 5, 3];
    const x = randArray(bhkv * c * d, 20);
    const dy = randArray(bhkv * groups * c * d, 21);
    const f = (a: readonly Float64Array[]) => O.repeatKv(a[0]!, bhkv, groups, c * d);
    const [gx] = numericVjp(f, [x], dy, [0]);
    close(repeatKv(ten(x, [bhkv, c, d]) as tf.Tensor3D, groups), f([x]), 1e-7);
    close(repeatKvBackward(ten(dy, [bhkv * groups, c, d]) as tf.Tensor3D, groups), gx!);
    close(repeatKv(ten(x, [bhkv, c, d]) as tf.Tensor3D, 1), x, 1e-7);
    expect(f64(repeatKvBackward(ten(dy, [bhkv * groups, c, d]) as tf.Tensor3D, 1))).toEqual(f64(ten(dy, [bhkv * groups, c, d])));
  });

  it("GLA gate projection logsigmoid(h W1 W2)/tau [7,5]x[5,2]x[2,6]: forward, dh, dw1, dw2", () => {
    const [t, d, r, g, tau] = [7, 5, 2, 6, 16];
    const h = randArray(t * d, 22, 2);
    const w1 = randArray(d * r, 23);
    const w2 = randArray(r * g, 24, 2);
    const dg = randArray(t * g, 25);
    const f = (a: readonly Float64Array[]) => O.gateProj(a[0]!, a[1]!, a[2]!, t, d, r, g, tau);
    const [gh, g1, g2] = numericVjp(f, [h, w1, w2], dg, [0, 1, 2]);
    const [ht, w1t, w2t] = [ten(h, [t, d]), ten(w1, [d, r]), ten(w2, [r, g])] as tf.Tensor2D[];
    const y = gateProj(ht!, w1t!, w2t!, tau);
    close(y, f([h, w1, w2]));
    expect(Math.max(...y.dataSync())).toBeLessThanOrEqual(0);
    const b = gateProjBackward(ht!, w1t!, w2t!, ten(dg, [t, g]) as tf.Tensor2D, tau);
    close(b.dh, gh!);
    close(b.dw1, g1!);
    close(b.dw2, g2!);
  });
});
