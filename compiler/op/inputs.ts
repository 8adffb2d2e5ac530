// The tensors of `lasp op`'s IN file, checked against the op's contract: float32 q [H,N,Dk], k [H,N,Dk],
// v [H,N,Dv], optional decay [H] and do [H,N,Dv]. Every fault names the tensor; nothing is guessed.
import type { OpConfigError } from "./config.ts";

/** A tensor as a file reader hands it over (runtime/io/safetensors.ts Tensor fits). */
export interface TensorLike {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** read as numbers once dtype is F32 */
  readonly data: ArrayLike<number> | BigInt64Array;
}

export interface OpTensors {
  readonly H: number;
  readonly N: number;
  readonly dk: number;
  readonly dv: number;
  readonly lambdas: number[] | null;
  /** q, k, v (and do when given) as float32 [H, N, d] */
  readonly tensors: Map<string, { shape: [number, number, number]; data: Float32Array }>;
  readonly backward: boolean;
}

const KNOWN = ["q", "k", "v", "decay", "do"];

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/** The op's inputs, or every fault found (each naming its tensor). */
export function opTensors(all: ReadonlyMap<string, TensorLike>, source: string): { value: OpTensors | null; errors: OpConfigError[] } {
  const errors: OpConfigError[] = [];
  const err = (subject: string, message: string) => errors.push({ subject, message: `${source}: ${message}` });
  for (const name of all.keys()) if (!KNOWN.includes(name)) err(name, `unexpected tensor '${name}' (IN holds q, k, v and optionally decay, do)`);
  const get = (name: string, rank: number, required: boolean): TensorLike | null => {
    const t = all.get(name);
    if (t === undefined) {
      if (required) err(name, `missing tensor '${name}' (has: ${[...all.keys()].join(", ") || "none"})`);
      return null;
    }
    if (t.dtype !== "F32") return err(name, `tensor '${name}' is ${t.dtype}; lasp op needs F32`), null;
    if (t.shape.length !== rank || t.shape.some((d) => d < 1)) {
      const want = rank === 3 ? "[H, N, d] with every dim >= 1" : "[H]";
      return err(name, `tensor '${name}' has shape ${fmt(t.shape)}, expected ${want}`), null;
    }
    const d = t.data as ArrayLike<number>;
    for (let i = 0; i < d.length; i++)
      if (!Number.isFinite(d[i]!)) return err(name, `tensor '${name}' holds NaN or Inf (at flat index ${i})`), null;
    return t;
  };
  const [q, k, v] = [get("q", 3, true), get("k", 3, true), get("v", 3, true)];
  const decay = get("decay", 1, false);
  const dO = get("do", 3, false);
  if (q === null || k === null || v === null) return { value: null, errors };
  const [H, N, dk] = q.shape as [number, number, number];
  const dv = v.shape[2]!;
  if (fmt(k.shape) !== fmt(q.shape)) err("k", `tensor 'k' has shape ${fmt(k.shape)}, expected q's ${fmt(q.shape)}`);
  if (v.shape[0] !== H || v.shape[1] !== N) err("v", `tensor 'v' has shape ${fmt(v.shape)}, expected [${H}, ${N}, Dv] (H and N of q)`);
  if (dO !== null && fmt(dO.shape) !== fmt(v.shape)) err("do", `tensor 'do' has shape ${fmt(dO.shape)}, expected v's ${fmt(v.shape)}`);
  if (decay !== null && decay.shape[0] !== H) err("decay", `tensor 'decay' has shape ${fmt(decay.shape)}, expected [${H}] (one value per head)`);
  if (errors.length > 0) return { value: null, errors };
  const f32 = (t: TensorLike) => ({ shape: [...t.shape] as [number, number, number], data: Float32Array.from(t.data as ArrayLike<number>) });
  const tensors = new Map([["q", f32(q)], ["k", f32(k)], ["v", f32(v)], ...(dO !== null ? [["do", f32(dO)] as const] : [])]);
  const lambdas = decay === null ? null : Array.from(decay.data as ArrayLike<number>);
  return { value: { H, N, dk, dv, lambdas, tensors, backward: dO !== null }, errors };
}
