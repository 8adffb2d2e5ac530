// A minimal WebAssembly binary writer: just what the generated SIMD kernels need (i32 and v128 locals,
// loops, loads and stores with constant offsets, f32x4 arithmetic, one imported memory, exported
// functions). The kernels are generated as code by gemm-gen.ts; nothing is compiled ahead of time,
// so the repository holds no binary.

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, "utf8")];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** One function body under construction: named locals and an instruction byte stream. */
export class Fn {
  readonly code: number[] = [];
  private readonly names = new Map<string, number>();
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly [string, ValType][],
  ) {
    params.forEach(([n], i) => this.names.set(n, i));
  }

  /** Declares a local (or returns the index of an existing one of that name). */
  local(name: string, type: ValType = I32): number {
    const have = this.names.get(name);
    if (have !== undefined) return have;
    const idx = this.params.length + this.localTypes.length;
    this.names.set(name, idx);
    this.localTypes.push(type);
    return idx;
  }

  private idx(name: string): number {
    const i = this.names.get(name);
    if (i === undefined) throw new Error(`wasm asm: local '${name}' is not declared in ${this.name}`);
    return i;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(name: string): this {
    return this.op(0x20, ...uleb(this.idx(name)));
  }
  set(name: string): this {
    return this.op(0x21, ...uleb(this.idx(name)));
  }
  tee(name: string): this {
    return this.op(0x22, ...uleb(this.idx(name)));
  }
  i32(n: number): this {
    return this.op(0x41, ...sleb(n | 0));
  }
  /** i32 arithmetic and comparisons by name */
  i(op: "add" | "sub" | "mul" | "shl" | "lt_s" | "lt_u" | "ge_s" | "gt_s" | "eqz" | "eq" | "ne" | "and"): this {
    const codes = { add: 0x6a, sub: 0x6b, mul: 0x6c, shl: 0x74, lt_s: 0x48, lt_u: 0x49, ge_s: 0x4e, gt_s: 0x4a, eqz: 0x45, eq: 0x46, ne: 0x47, and: 0x71 };
    return this.op(codes[op]);
  }
  /** `name += k` (i32) */
  inc(name: string, k: number | string): this {
    this.get(name);
    if (typeof k === "number") this.i32(k);
    else this.get(k);
    return this.i("add").set(name);
  }
  i32Load(offset = 0): this {
    return this.op(0x28, 2, ...uleb(offset));
  }
  i32Store(offset = 0): this {
    return this.op(0x36, 2, ...uleb(offset));
  }
  /** f32 arithmetic by name */
  f(op: "add" | "mul"): this {
    return this.op(op === "add" ? 0x92 : 0x94);
  }
  f32Const(x: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(x);
    return this.op(0x43, ...b);
  }
  f32Load(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  f32Store(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  private simd(code: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(code), ...imm);
  }
  v128Load(offset = 0): this {
    return this.simd(0x00, 4, ...uleb(offset));
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b, 4, ...uleb(offset));
  }
  /** load one f32 and splat it to all four lanes */
  load32Splat(offset = 0): this {
    return this.simd(0x09, 2, ...uleb(offset));
  }
  /** f32x4 lane ops; min / max propagate NaN (IEEE minimum / maximum), lt gives an all-ones lane mask */
  f32x4(op: "add" | "sub" | "mul" | "splat" | "min" | "max" | "nearest" | "lt"): this {
    const codes = { splat: 0x13, add: 0xe4, sub: 0xe5, mul: 0xe6, min: 0xe8, max: 0xe9, nearest: 0x6a, lt: 0x43 };
    return this.simd(codes[op]);
  }
  /** i32x4 lane ops: add, shl (by an i32 count), trunc_sat_f32x4_s (float lanes to saturated ints) */
  i32x4(op: "add" | "shl" | "truncSatF32"): this {
    const codes = { add: 0xae, shl: 0xab, truncSatF32: 0xf8 };
    return this.simd(codes[op]);
  }
  /** v128.andnot: a & ~b */
  andNot(): this {
    return this.simd(0x4f);
  }
  /** i8x16.shuffle of two vectors by 16 lane indices (0-15 the first, 16-31 the second) */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error("wasm asm: shuffle takes 16 lanes");
    return this.simd(0x0d, ...lanes);
  }
  v128Zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** block ... end: `br 0` inside jumps past the end */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }
  /** loop ... end: `br 0` inside jumps back to the start */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }
  /** (a, b, cond) -> cond != 0 ? a : b */
  select(): this {
    return this.op(0x1b);
  }
  /** if (pop != 0) then ... else ... end (no values cross the branches) */
  ifElse(then: () => void, otherwise: () => void): this {
    this.op(0x04, 0x40);
    then();
    this.op(0x05);
    otherwise();
    return this.op(0x0b);
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  /** for (v = from; v < to; v += step) body — `to` is a local name; body runs zero times when from >= to */
  forRange(v: string, from: number | string, to: string, step: number | string, body: () => void): this {
    if (typeof from === "number") this.i32(from);
    else this.get(from);
    this.set(v);
    return this.block(() => {
      this.get(v).get(to).i("ge_s").brIf(0);
      this.loop(() => {
        body();
        this.inc(v, step);
        this.get(v).get(to).i("lt_s").brIf(0);
      });
    });
  }

  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const body = [...uleb(groups.length), ...groups.flatMap(([n, t]) => [...uleb(n!), t!]), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** A module with one imported memory ("env"."mem") and the given functions exported by name (no results). */
export function assemble(fns: readonly Fn[]): Uint8Array {
  const types = fns.map((f) => [0x60, ...uleb(f.params.length), ...f.params.map(([, t]) => t), 0]);
  const imports = vec([[...str("env"), ...str("mem"), 0x02, 0x00, ...uleb(1)]]);
  const funcs = vec(fns.map((_, i) => uleb(i)));
  const exports = vec(fns.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]));
  const code = vec(fns.map((f) => f.encode()));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
