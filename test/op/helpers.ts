// Shared setup of the `lasp op` tests: random op inputs, the float64 oracles of test/oracle (which share
// no code with the kernels), one launch per rank count for many cases, and the section-5 byte forms.
import { expect } from "vitest";
import { buildOpPlan } from "../../compiler/op/build.ts";
import type { OpConfig, OpKind } from "../../compiler/op/config.ts";
import { rankLength } from "../../compiler/plan/partition.ts";
import { runOps, type GlobalTensor, type OpRunResult } from "../../runtime/exec/op-job.ts";
import { oracleBackward, oracleForward } from "../oracle/linear-attention.ts";
import { naiveSaBackward, naiveSaForward } from "../oracle/softmax-attention.ts";
import { randArray, relErr } from "../oracle/random.ts";

export interface OpCase {
  readonly name: string;
  readonly kind: OpKind;
  readonly method: string;
  readonly causal: boolean;
  readonly H: number;
  readonly N: number;
  readonly block: number;
  readonly layout?: "contiguous" | "zigzag";
  readonly overlap?: boolean;
  /** per-head decay (linear, causal) */
  readonly decay?: readonly number[];
  /** false: forward only (no `do` given) */
  readonly backward?: boolean;
}

export const DK = 4;
export const DV = 3;

export interface OpData {
  readonly q: Float64Array;
  readonly k: Float64Array;
  readonly v: Float64Array;
  readonly dO: Float64Array;
}

/** Inputs rounded to float32 first, so the oracle sees exactly what the ranks see. */
export function opData(c: OpCase, seed: number): OpData {
  const r = (n: number, s: number) => Float64Array.from(Float32Array.from(randArray(n, s)));
  return { q: r(c.H * c.N * DK, seed), k: r(c.H * c.N * DK, seed + 1), v: r(c.H * c.N * DV, seed + 2), dO: r(c.H * c.N * DV, seed + 3) };
}

export function config(c: OpCase, ranks: number): OpConfig {
  return {
    kind: c.kind,
    ranks,
    method: c.method,
    causal: c.causal,
    block: c.block,
    layout: c.layout ?? "contiguous",
    overlap: c.overlap ?? true,
    H: c.H,
    N: c.N,
    dk: DK,
    dv: DV,
    lambdas: c.decay === undefined ? null : [...c.decay],
    backward: c.backward ?? true,
  };
}

/** The float64 reference o, dq, dk, dv of a case (flat [H, N, d]). */
export function oracle(c: OpCase, d: OpData): Map<string, Float64Array> {
  const backward = c.backward ?? true;
  if (c.kind === "linear-attention") {
    const x = { bh: c.H, n: c.N, dk: DK, dv: DV, q: d.q, k: d.k, v: d.v, g: null, lambdas: c.decay ? Float64Array.from(c.decay) : null, causal: c.causal };
    const out = new Map([["o", oracleForward(x)]]);
    if (!backward) return out;
    const g = oracleBackward(x, d.dO);
    return new Map([...out, ["dq", g.dq], ["dk", g.dk], ["dv", g.dv]]);
  }
  const pos = Int32Array.from({ length: c.N }, (_, i) => i);
  const s = { bh: c.H, groups: 1, cq: c.N, ck: c.N, dk: DK, dv: DV, causal: c.causal, posQ: pos, posK: pos };
  const out = new Map([["o", naiveSaForward(s, d.q, d.k, d.v)]]);
  if (!backward) return out;
  const g = naiveSaBackward(s, d.q, d.k, d.v, d.dO);
  return new Map([...out, ["dq", g.dq], ["dk", g.dk], ["dv", g.dv]]);
}

export interface CaseRun {
  readonly c: OpCase;
  readonly result: OpRunResult;
  readonly ref: Map<string, Float64Array>;
}

/** Every case on `ranks` ranks, one launch; results with their float64 references. */
export async function runCases(cases: readonly OpCase[], ranks: number): Promise<CaseRun[]> {
  const built = cases.map((c, i) => {
    const b = buildOpPlan(config(c, ranks));
    if (b.plan === null) throw new Error(`${c.name}: ${b.errors.map((e) => e.message).join("; ")}`);
    const d = opData(c, 100 * i + ranks);
    const t = (x: Float64Array, dim: number): GlobalTensor => ({ shape: [c.H, c.N, dim], data: Float32Array.from(x) });
    const inputs = new Map([["q", t(d.q, DK)], ["k", t(d.k, DK)], ["v", t(d.v, DV)], ...((c.backward ?? true) ? [["do", t(d.dO, DV)] as const] : [])]);
    return { c, op: b.plan, inputs, ref: oracle(c, d) };
  });
  const results = await runOps(built.map(({ op, inputs }) => ({ op, inputs })), { backend: "wasm" });
  return built.map((b, i) => ({ c: b.c, result: results[i]!, ref: b.ref }));
}

/** o (dq, dk, dv) within 1e-4 of the oracle, and the bytes every rank measured equal the plan's. */
export function expectMatches(r: CaseRun): void {
  const want = (r.c.backward ?? true) ? ["o", "dq", "dk", "dv"] : ["o"];
  expect([...r.result.outputs.keys()]).toEqual(want);
  for (const name of want) {
    const e = relErr(r.result.outputs.get(name)!.data, r.ref.get(name)!);
    expect(e, `${r.c.name}: ${name} rel err ${e}`).toBeLessThan(1e-4);
  }
  expect(r.result.mismatches).toEqual([]);
}

const total = (b: Record<string, number>) => Object.entries(b).reduce((s, [k, v]) => (k === "barrier" ? s : s + v), 0);

/** Bytes rank `rank` measured over all groups and kinds (barriers excluded). */
export function measuredTotal(r: CaseRun, rank: number): number {
  const m = r.result.bytes[rank]!.measured;
  return total(m.sp) + total(m.dp) + total(m.world);
}

/**
 * ALGORITHM.md section 5, written out independently of compiler/cost: what rank `rank` receives for
 * LASP-2 (one all_gather of S states of H dk dv per direction) and LASP-2H (all_gather of the other ranks'
 * K, V forward; reduce_scatter of W-1 partial dK, dV of its own tokens backward). null: no closed form used.
 */
export function sectionFiveBytes(c: OpCase, ranks: number, rank: number): Record<string, number> | null {
  const layout = c.layout ?? "contiguous";
  const S = layout === "zigzag" ? 2 : 1;
  const dirs = (c.backward ?? true) ? 2 : 1;
  if (c.method === "lasp2") return { all_gather: dirs * (ranks - 1) * S * c.H * DK * DV * 4 };
  if (c.method === "lasp2h") {
    let others = 0;
    for (let q = 0; q < ranks; q++) if (q !== rank) others += rankLength(c.N, ranks, layout, q);
    const mine = rankLength(c.N, ranks, layout, rank);
    const out: Record<string, number> = { all_gather: others * c.H * (DK + DV) * 4 };
    if (dirs === 2) out.reduce_scatter = (ranks - 1) * mine * c.H * (DK + DV) * 4;
    return out;
  }
  return null;
}

/** Checks the section-5 closed form where one exists; returns whether it was checked. */
export function expectSectionFive(r: CaseRun, ranks: number): boolean {
  let checked = false;
  for (let rank = 0; rank < ranks; rank++) {
    const want = sectionFiveBytes(r.c, ranks, rank);
    if (want === null) continue;
    const m = r.result.bytes[rank]!.measured.sp;
    for (const [k, v] of Object.entries(want)) expect(m[k as keyof typeof m], `${r.c.name}: rank ${rank} ${k}`).toBe(v);
    expect(total(m)).toBe(Object.values(want).reduce((a, b) => a + b, 0));
    checked = true;
  }
  return checked;
}
