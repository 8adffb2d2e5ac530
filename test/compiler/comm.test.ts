// Structural communication checks on compiled plans: collective counts per layer and method, bytes per
// rank against the closed forms of ALGORITHM.md section 5 (cost/formulas.ts) for every rank, N-(in)dependence,
// and the overlap schedule (every start waited before first use; la_intra between the state's start and wait).
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { bytesReceived, partShape, rankCounts } from "../../compiler/cost/bytes.ts";
import { bufferShapes } from "../../compiler/passes/estimate.ts";
import { expectedLayerBytes, expectedGradSyncBytes } from "../../compiler/cost/formulas.ts";
import type { Plan } from "../../compiler/plan/schema.ts";
import { makeSpec, hybrid14, pureLinear, type SpecOptions } from "./fixtures.ts";
import { commStarts, steps } from "./helpers.ts";

function plan(o: SpecOptions): Plan {
  const r = compile(makeSpec(o));
  expect(r.diagnostics).toEqual([]);
  return r.plan!;
}

/** Bytes rank r receives for a layer and phase, summed over the plan's comm steps. */
function planBytes(p: Plan, layer: number, phase: string, rank: number): number {
  const ctx = { mesh: p.mesh, rankTokens: p.estimates.rankTokens };
  return commStarts(p, { layer, phase }).reduce((s, c) => s + bytesReceived(c, ctx, rank), 0);
}

describe("LASP-2 linear layers", () => {
  it("move exactly one AllGather forward and one backward per layer", () => {
    const p = compile(pureLinear()).plan!;
    for (const l of [0, 1]) {
      const f = commStarts(p, { layer: l, phase: "forward" });
      const b = commStarts(p, { layer: l, phase: "backward" });
      expect(f.map((c) => c.collective)).toEqual(["all_gather"]);
      expect(b.map((c) => c.collective)).toEqual(["all_gather"]);
      expect(f[0]!.group).toBe("sp");
    }
  });
  it("receive (W-1) B H dk dv 4 bytes each way, whatever N is", () => {
    for (const seq of [64, 257, 4096]) {
      const p = plan({ pattern: "LL", seq, parallel: { sp: 4 } });
      const want = 3 * 2 * 4 * 8 * 8 * 4; // (W-1) * B * H * dk * dv * 4
      for (let r = 0; r < 4; r++) {
        expect(planBytes(p, 0, "forward", r)).toBe(want);
        expect(planBytes(p, 0, "backward", r)).toBe(want);
      }
      expect(p.estimates.layers[0]!.comm.map((c) => c.bytesPerRank)).toEqual([want, want]);
    }
  });
});

describe("LASP-2H softmax layers", () => {
  it("AllGather K,V forward and ReduceScatter dK,dV backward", () => {
    const p = compile(hybrid14()).plan!;
    expect(commStarts(p, { layer: 3, phase: "forward" }).map((c) => c.collective)).toEqual(["all_gather"]);
    expect(commStarts(p, { layer: 3, phase: "backward" }).map((c) => c.collective)).toEqual(["reduce_scatter"]);
  });
  it("bytes grow with N", () => {
    const b = [64, 128, 256].map((seq) => planBytes(plan({ pattern: "LLLN", seq }), 3, "forward", 0));
    expect(b[1]).toBe(2 * b[0]!);
    expect(b[2]).toBe(4 * b[0]!);
    // (W-1) C B Hkv (dk+dv) 4 at N=64, W=4: C=16
    expect(b[0]).toBe(3 * 16 * 2 * 2 * 16 * 4);
  });
});

const METHOD_CASES: SpecOptions[] = [];
for (const linear of ["lasp2", "lasp1", "ring"] as const) {
  for (const softmax of ["lasp2h", "ring", "ulysses"] as const) {
    for (const [sp, seq, layout] of [[4, 64, "contiguous"], [3, 37, "contiguous"], [2, 23, "zigzag"], [1, 9, "contiguous"]] as const) {
      if (linear === "lasp1" && layout === "zigzag") continue;
      // ulysses needs heads and kv heads divisible by sp; elsewhere exercise GQA (groups 2 and 4)
      const model = softmax === "ulysses" ? { heads: sp === 3 ? 6 : 4, kvHeads: sp === 3 ? 3 : sp === 4 ? 4 : 2 } : { heads: 4, kvHeads: sp === 3 ? 1 : 2 };
      METHOD_CASES.push({ pattern: "LNL", seq, parallel: { linear, softmax, sp, layout }, model });
    }
  }
}

describe("bytes per rank follow ALGORITHM.md section 5 for every method and rank", () => {
  it.each(METHOD_CASES.map((c) => [`${c.parallel!.linear}/${c.parallel!.softmax} sp=${c.parallel!.sp} N=${c.seq} ${c.parallel!.layout}`, c]))("%s", (_n, c) => {
    const spec = makeSpec(c);
    const p = compile(spec).plan!;
    for (let r = 0; r < spec.parallel.sp; r++) {
      for (let l = 0; l < 3; l++) {
        const want = expectedLayerBytes(spec, l, r);
        expect([planBytes(p, l, "forward", r), planBytes(p, l, "backward", r)]).toEqual([want.forward, want.backward]);
      }
    }
    const ctx = { mesh: p.mesh, rankTokens: p.estimates.rankTokens };
    const sync = commStarts(p, { phase: "grad_sync" });
    expect(sync.every((c) => c.collective === "all_reduce" && c.group === "world")).toBe(true);
    // every weight gradient exactly once, in 25 MiB buckets (these small models: one bucket)
    const synced = p.gradSync.filter((st) => st.op === "comm_wait").flatMap((st) => st.out);
    expect([...synced].sort()).toEqual(p.params.map((q) => q.grad).sort());
    expect(sync.length).toBe(1);
    // exact per rank: integer bytes, within 4(W-1) bytes per weight of the closed form 2(W-1)/W (uneven split)
    const W = p.mesh.world;
    for (let r = 0; r < W; r++) {
      const got = sync.reduce((s, c) => s + bytesReceived(c, ctx, r), 0);
      expect(Number.isInteger(got)).toBe(true);
      expect(Math.abs(got - expectedGradSyncBytes(p.estimates.totals.paramCount, W))).toBeLessThanOrEqual(sync.length * 4 * (W - 1));
    }
  });

  it("counts hops: lasp1 2 send_recv each way, ring W-1 each way, ulysses 4 all_to_all each way", () => {
    const W = 4;
    const count = (p: Plan, l: number, ph: string, op: string) => commStarts(p, { layer: l, phase: ph }).filter((c) => c.collective === op).length;
    const lasp1 = plan({ pattern: "L", parallel: { linear: "lasp1", sp: W } });
    expect([count(lasp1, 0, "forward", "send_recv"), count(lasp1, 0, "backward", "send_recv")]).toEqual([2, 2]);
    const ring = plan({ pattern: "LN", parallel: { linear: "ring", softmax: "ring", sp: W } });
    for (const l of [0, 1]) expect([count(ring, l, "forward", "send_recv"), count(ring, l, "backward", "send_recv")]).toEqual([W - 1, W - 1]);
    const uly = plan({ pattern: "N", parallel: { softmax: "ulysses", sp: 2 } });
    expect([count(uly, 0, "forward", "all_to_all"), count(uly, 0, "backward", "all_to_all")]).toEqual([4, 4]);
  });

  it("a short conv adds one halo send_recv per conv each way", () => {
    const lin = { variant: "based" as const, feature: "identity" as const, decay: { kind: "none" as const }, conv: 4, causal: true };
    const p = plan({ pattern: "L", linear: lin });
    const sr = (ph: string) => commStarts(p, { layer: 0, phase: ph }).filter((c) => c.collective === "send_recv");
    expect(sr("forward").map((c) => [c.sendTo, c.recvFrom])).toEqual(Array(3).fill(["next", "prev"]));
    expect(sr("backward").map((c) => [c.sendTo, c.recvFrom])).toEqual(Array(3).fill(["prev", "next"]));
  });
});

describe("rankCounts", () => {
  it("gives each rank's element count of a collective (uneven chunks: N = 37 on 3 ranks = 13, 12, 12)", () => {
    const p = plan({ pattern: "N", seq: 37, parallel: { sp: 3 }, model: { kvHeads: 1 } });
    const g = commStarts(p, { layer: 0, phase: "forward" })[0]!;
    const perToken = 2 * 1 * (8 + 8); // B * Hkv * (dk + dv)
    expect(rankCounts(g, { mesh: p.mesh, rankTokens: p.estimates.rankTokens })).toEqual([13, 12, 12].map((c) => c * perToken));
  });
});

describe("schedule", () => {
  it("every comm_start is waited exactly once, before any step reads its results", () => {
    for (const c of METHOD_CASES) {
      const p = compile(makeSpec(c)).plan!;
      const all = steps(p);
      const startAt = new Map<string, number>();
      const waitAt = new Map<string, number>();
      all.forEach((s, i) => {
        if (s.op === "comm_start") startAt.set(s.handle, i);
        if (s.op === "comm_wait") {
          expect(waitAt.has(s.handle)).toBe(false);
          waitAt.set(s.handle, i);
        }
      });
      expect([...waitAt.keys()].sort()).toEqual([...startAt.keys()].sort());
      const defined = new Map<string, number>();
      all.forEach((s, i) => s.out.forEach((b) => defined.set(b, i)));
      all.forEach((s, i) => {
        for (const b of s.in) if (defined.has(b)) expect(defined.get(b)!).toBeLessThan(i);
      });
      for (const [h, i] of startAt) expect(waitAt.get(h)!).toBeGreaterThan(i);
    }
  });

  it("with overlap on, la_intra runs between the state's comm_start and comm_wait; off, the wait follows the start", () => {
    for (const overlap of [true, false]) {
      const p = plan({ pattern: "L", parallel: { overlap } });
      const f = p.forward;
      const s = f.findIndex((x) => x.op === "comm_start" && x.layer === 0);
      const w = f.findIndex((x) => x.op === "comm_wait" && x.layer === 0);
      const intra = f.findIndex((x) => x.op === "la_intra");
      if (overlap) expect(s < intra && intra < w).toBe(true);
      else expect(w).toBe(s + 1);
      const b = p.backward;
      const bs = b.findIndex((x) => x.op === "comm_start" && x.layer === 0);
      const bw = b.findIndex((x) => x.op === "comm_wait" && x.layer === 0);
      const bintra = b.findIndex((x) => x.op === "la_bwd_intra");
      if (overlap) expect(bs < bintra && bintra < bw).toBe(true);
      else expect(bw).toBe(bs + 1);
    }
  });

  it("LASP-2H overlaps the K/V gather with the Q projection", () => {
    const p = plan({ pattern: "N" });
    const f = p.forward;
    const s = f.findIndex((x) => x.op === "comm_start");
    const w = f.findIndex((x) => x.op === "comm_wait");
    const qProj = f.findIndex((x) => x.op === "matmul" && x.out[0] === "L0.q");
    expect(s < qProj && qProj < w).toBe(true);
  });
});

describe("comm part shapes", () => {
  it("describe exactly the tensors sent and received, on every rank", () => {
    for (const c of METHOD_CASES) {
      const spec = makeSpec(c);
      const r = compile(spec);
      const p = r.plan!;
      for (let rank = 0; rank < spec.parallel.sp; rank++) {
        const env = bufferShapes(r.graph, rank);
        const C = (q: number) => p.estimates.rankTokens[q]!;
        const starts = new Map(commStarts(p).map((s) => [s.handle, s]));
        for (const s of steps(p)) {
          if (s.op === "comm_start" && s.group === "sp") {
            s.in.forEach((b, j) => {
              const part = s.parts[j]!;
              const sent = env.get(b)!;
              if (s.collective === "reduce_scatter") {
                const all = Array.from({ length: spec.parallel.sp }, (_, q) => partShape(part, C(q))[part.axis]!).reduce((a, x) => a + x, 0);
                expect(sent).toEqual(partShape(part, C(rank)).map((d, i) => (i === part.axis ? all : d)));
              } else if (s.collective === "send_recv") {
                // a forwarded ring block originated hop-1 ranks back along the ring
                const back = (s.hop ?? 1) - 1;
                const W = spec.parallel.sp;
                const origin = s.sendTo === "next" ? (((rank - back) % W) + W) % W : (rank + back) % W;
                expect(sent).toEqual(partShape(part, C(origin)));
              } else if (!(s.collective === "all_to_all" && s.a2a!.direction === "heads_to_seq")) {
                expect(sent).toEqual(partShape(part, C(rank)));
              }
            });
          }
          if (s.op === "comm_wait") {
            const st = starts.get(s.handle)!;
            if (st.collective === "send_recv" && st.group === "sp") {
              s.out.forEach((b, j) => {
                const got = env.get(b)!;
                if (got.length === 1 && got[0] === 0) return; // nothing received on this rank
                expect(got.length).toBe(st.parts[j]!.shape.length);
              });
            }
          }
        }
      }
    }
  });
});
