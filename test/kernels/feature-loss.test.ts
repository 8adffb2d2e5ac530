// Linear-attention feature maps (identity, elu1, relu, silu, square, taylor2) and the cross-entropy loss
// with unscored targets, forward and backward against float64 oracles; accuracy against a count.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../runtime/backend/index.ts";
import { featureBackward, featureDim, featureForward } from "../../runtime/kernels/feature.ts";
import { accuracy, crossEntropy, crossEntropyBackward } from "../../runtime/kernels/loss.ts";
import * as O from "../oracle/dense.ts";
import { numericVjp } from "../oracle/numeric-vjp.ts";
import { randArray } from "../oracle/random.ts";
import { close, ten } from "./dense-harness.ts";

beforeAll(async () => {
  await initBackend("wasm");
});

describe("feature maps on [BH, C, d] (d = 5)", () => {
  const [bh, c, d] = [2, 3, 5];
  for (const kind of ["identity", "elu1", "relu", "silu", "square", "taylor2"] as const)
    it(`${kind}: forward and backward`, () => {
      const x = randArray(bh * c * d, 50, 2);
      const w = featureDim(kind, d);
      const dy = randArray(bh * c * w, 51);
      const f = (a: readonly Float64Array[]) => O.feature(kind, a[0]!, d);
      const [gx] = numericVjp(f, [x], dy, [0]);
      const xt = ten(x, [bh, c, d]) as tf.Tensor3D;
      const y = featureForward(kind, xt);
      expect(y.shape).toEqual([bh, c, w]);
      close(y, f([x]));
      close(featureBackward(kind, xt, ten(dy, [bh, c, w]) as tf.Tensor3D), gx!);
    });

  it("taylor2: phi(q).phi(k) = 1 + q.k/sqrt(d) + (q.k)^2/(2d)", () => {
    const q = randArray(d, 52);
    const k = randArray(d, 53);
    const pq = featureForward("taylor2", ten(q, [1, 1, d]) as tf.Tensor3D).dataSync();
    const pk = featureForward("taylor2", ten(k, [1, 1, d]) as tf.Tensor3D).dataSync();
    const got = Array.from(pq).reduce((s, v, i) => s + v * pk[i]!, 0);
    const qk = q.reduce((s, v, i) => s + v * k[i]!, 0);
    expect(Math.abs(got - (1 + qk / Math.sqrt(d) + (qk * qk) / (2 * d)))).toBeLessThan(1e-5);
  });
});

describe("cross-entropy with unscored (-1) targets and a normaliser", () => {
  const [t, v] = [7, 11];
  const targets = Int32Array.from([3, -1, 10, 0, -1, 5, 3]);
  const logits = randArray(t * v, 60, 3);
  // make tokens 0 and 5 hits and token 2 a miss, whatever the random draw
  logits[0 * v + 3] = 9;
  logits[5 * v + 5] = 9;
  logits[2 * v + 4] = 9;
  const norm = 13;

  it("loss and dlogits (dloss 1 and 0.5)", () => {
    const lt = ten(logits, [t, v]) as tf.Tensor2D;
    const ref = O.crossEntropy(logits, targets, v, norm);
    close(crossEntropy(lt, targets, norm), Float64Array.of(ref));
    const f = (a: readonly Float64Array[]) => Float64Array.of(O.crossEntropy(a[0]!, targets, v, norm));
    const [g] = numericVjp(f, [logits], Float64Array.of(1), [0]);
    close(crossEntropyBackward(lt, targets, norm), g!);
    close(crossEntropyBackward(lt, targets, norm, 0.5), g!.map((x) => x / 2));
    // unscored rows get no gradient at all
    const d = crossEntropyBackward(lt, targets, norm).arraySync();
    expect(d[1]!.every((x) => x === 0) && d[4]!.every((x) => x === 0)).toBe(true);
    expect(() => crossEntropy(lt, Int32Array.from([11, 0, 0, 0, 0, 0, 0]), norm)).toThrow(RangeError);
  });

  it("accuracy counts correct argmax among scored tokens", () => {
    const got = accuracy(ten(logits, [t, v]) as tf.Tensor2D, targets).dataSync()[0];
    const ref = O.accuracy(logits, targets, v);
    expect(ref).toBeGreaterThanOrEqual(2);
    expect(got).toBe(ref);
  });
});
