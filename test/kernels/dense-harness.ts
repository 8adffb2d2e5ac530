// Helpers for the dense-op tests: float64 <-> float32 tensors and a closeness check against an oracle.
import { expect } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { relErr } from "../oracle/random.ts";

export const TOL = 1e-4;

export function ten(a: Float64Array, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from(a), shape);
}

export function f64(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync());
}

/** Relative error (max abs diff / max abs reference) below tol; returns the error for reporting. */
export function close(got: tf.Tensor | Float64Array, ref: Float64Array, tol = TOL): number {
  const g = got instanceof Float64Array ? got : f64(got);
  const e = relErr(g, ref);
  expect(e).toBeLessThan(tol);
  return e;
}
