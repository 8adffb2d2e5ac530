// Shared pieces of the GPU check: fast random float32 data, float32 <-> float64, error measure,
// a GPU sync that reads one element, medians, and the row log every section appends to.
import * as tf from "@tensorflow/tfjs-core";
import { webgpuErrorCount } from "../../runtime/backend/webgpu.ts";

/** xorshift32 values uniform in [-1, 1): fast enough for 10^8 elements. */
export function randomF32(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

export function f64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/** max |got - ref| / max |ref|; Infinity when got has a NaN or an infinity. */
export function maxRelErr(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    if (!Number.isFinite(g)) return Infinity;
    num = Math.max(num, Math.abs(g - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return den > 0 ? num / den : num;
}

/** Waits for every queued GPU command that produced `ts` (reads one element of each). */
export async function sync(...ts: tf.Tensor[]): Promise<void> {
  for (const t of ts) {
    const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
    await one.data();
    one.dispose();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export interface Row {
  section: string;
  name: string;
  /** relative error against the float64 oracle, or null for a timing row */
  err: number | null;
  tol: number | null;
  pass: boolean | null;
  ms: number | null;
  /** GFLOP/s for matmul rows, tokens/s for attention rows */
  rate: number | null;
  unit: string;
  note: string;
}

export const rows: Row[] = [];
let errorsSeen = 0;

export function record(r: Partial<Row> & { section: string; name: string }): Row {
  const row: Row = { err: null, tol: null, pass: null, ms: null, rate: null, unit: "", note: "", ...r };
  // A GPU error since the last row means some dispatch did not run: the row's numbers are void.
  const errors = webgpuErrorCount();
  if (errors > errorsSeen) {
    row.pass = false;
    row.note = `INVALID: ${errors - errorsSeen} GPU error(s) during this row; ${row.note}`;
    errorsSeen = errors;
  }
  if (row.err !== null && row.tol !== null && row.pass === null) row.pass = row.err <= row.tol;
  rows.push(row);
  const parts = [`[${row.section}] ${row.name}`];
  if (row.err !== null) parts.push(`err=${row.err.toExponential(2)} (tol ${row.tol}) ${row.pass ? "PASS" : "FAIL"}`);
  if (row.ms !== null) parts.push(`${row.ms.toFixed(2)} ms`);
  if (row.rate !== null) parts.push(`${row.rate.toFixed(1)} ${row.unit}`);
  if (row.note) parts.push(row.note);
  console.log(parts.join("  "));
  return row;
}

/** Seconds left before the run's deadline (set by check.ts). */
export const clock = { deadline: Number.POSITIVE_INFINITY };
export function secondsLeft(): number {
  return (clock.deadline - performance.now()) / 1000;
}
