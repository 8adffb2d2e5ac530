// Float64 vector-Jacobian products by central differences of a float64 forward function: the backward
// oracle for the dense ops, independent of any hand derivation (error about h^2, h = 1e-5).

export type F64Fn = (inputs: readonly Float64Array[]) => Float64Array;

/** Gradients of sum(f(inputs) * dy) with respect to each of `wrt` (indices into inputs). */
export function numericVjp(f: F64Fn, inputs: readonly Float64Array[], dy: Float64Array, wrt: readonly number[]): Float64Array[] {
  const h = 1e-5;
  const dot = (y: Float64Array): number => {
    if (y.length !== dy.length) throw new Error(`numericVjp: output ${y.length}, dy ${dy.length}`);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * dy[i]!;
    return s;
  };
  return wrt.map((which) => {
    const x = inputs[which]!;
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i]!;
      const args = inputs.map((a, k) => (k === which ? Float64Array.from(a) : a));
      args[which]![i] = keep + h;
      const up = dot(f(args));
      args[which]![i] = keep - h;
      const down = dot(f(args));
      g[i] = (up - down) / (2 * h);
    }
    return g;
  });
}
