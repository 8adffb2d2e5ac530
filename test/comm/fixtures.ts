// Data and counts shared by the comm test rank modules and the tests' expected values: integer-valued
// floats, so sums are exact in float32 and results can be compared with toEqual.

/** Element i of rank r's contribution to the collective tagged `tag`. */
export const val = (tag: number, r: number, i: number): number => tag * 100 + r * 1000 + (i % 997);

export function fill(tag: number, r: number, n: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  const base = tag * 100 + r * 1000;
  for (let i = 0, m = offset % 997; i < n; i++, m = m === 996 ? 0 : m + 1) out[i] = base + m;
  return out;
}

/** Uneven all_gather / reduce_scatter parts of a group of W: rank r gets 2r + 3 (or 0 for r = 1 when W > 2). */
export const unevenCounts = (W: number): number[] =>
  Array.from({ length: W }, (_, r) => (r === 1 && W > 2 ? 0 : 2 * r + 3));

/** all_to_all: elements rank `from` sends to rank `to`. */
export const a2aCount = (from: number, to: number): number => from + 2 * to + 1;

/** Length of the all_reduce vector in the suite: not a multiple of W. */
export const allReduceLength = (W: number): number => 10 * W + 3;
