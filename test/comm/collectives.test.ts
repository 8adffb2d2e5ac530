// Every collective of the worker-thread transport on 2, 3 and 4 ranks with uneven counts, checked
// against results computed here in plain JS; byte counters against the formulas written out by hand.
import { describe, expect, it } from "vitest";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { SuiteResult } from "./ranks/suite.ts";
import { a2aCount, allReduceLength, fill, unevenCounts, val } from "./fixtures.ts";

const entry = new URL("./ranks/suite.ts", import.meta.url);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const concat = (parts: number[][]): Float32Array => Float32Array.from(parts.flat());

/** Elementwise sum over ranks q of f(q, i), i < n. */
const sumOver = (W: number, n: number, f: (q: number, i: number) => number): Float32Array =>
  Float32Array.from(range(n), (i) => sum(range(W).map((q) => f(q, i))));

/** The all_reduce split: the first n % W ranks own one element more. */
const arPart = (n: number, W: number, r: number): number => Math.floor(n / W) + (r < n % W ? 1 : 0);

describe.each([2, 3, 4])("worker-thread collectives on %i ranks", (W) => {
  let results: SuiteResult[] = [];
  it("runs the suite on every rank", async () => {
    results = await launchRanks<SuiteResult>({ sp: W, dp: 1, entry, args: null, timeoutMs: 20_000 });
    expect(results).toHaveLength(W);
  });

  it("all_gather, reduce_scatter, all_reduce, all_to_all with uneven counts", () => {
    const counts = unevenCounts(W);
    const offs = range(W).map((r) => sum(counts.slice(0, r)));
    const n = allReduceLength(W);
    for (const r of range(W)) {
      const res = results[r]!;
      expect(res.allGather).toEqual(concat(range(W).map((q) => [...fill(1, q, counts[q]!)])));
      expect(res.reduceScatter).toEqual(sumOver(W, counts[r]!, (q, i) => val(2, q, i + offs[r]!)));
      expect(res.allReduce).toEqual(sumOver(W, n, (q, i) => val(3, q, i)));
      // rank j's send buffer is 10000 j + index; its part for r starts after its parts for ranks < r
      const fromJ = (j: number): number[] => {
        const start = sum(range(r).map((t) => a2aCount(j, t)));
        return range(a2aCount(j, r)).map((k) => 10_000 * j + start + k);
      };
      expect(res.allToAll).toEqual(concat(range(W).map(fromJ)));
    }
  });

  it("send_recv around the ring and along an open chain", () => {
    for (const r of range(W)) {
      const res = results[r]!;
      expect(res.ring).toEqual(fill(5, (r + W - 1) % W, 7));
      expect(res.chain).toEqual(r === 0 ? new Float32Array(0) : fill(6, r - 1, 4 + r));
    }
  });

  it("several collectives in flight, waited in different orders on different ranks", () => {
    for (const r of range(W)) {
      const [ag, ar, p2p, rs] = results[r]!.inFlight;
      expect(ag).toEqual(concat(range(W).map((q) => [...fill(7, q, 4)])));
      expect(ar).toEqual(sumOver(W, 9, (q, i) => val(8, q, i)));
      expect(p2p).toEqual(fill(9, (r + W - 1) % W, 3));
      expect(rs).toEqual(sumOver(W, 2, (q, i) => val(10, q, i + 2 * r)));
      // 40 all_reduces in flight (more than the 16 slots), waited newest first
      expect(results[r]!.manyInFlight).toEqual(
        range(40)
          .reverse()
          .flatMap((k) => [W * k, (W * (W - 1)) / 2]),
      );
    }
  });

  it("byte counters count only what a rank received from others", () => {
    const counts = unevenCounts(W);
    const n = allReduceLength(W);
    for (const r of range(W)) {
      const b = results[r]!.bytes;
      const othersCounts = sum(counts) - counts[r]!;
      expect(b[0]).toMatchObject({ all_gather: 4 * othersCounts, reduce_scatter: 0, all_reduce: 0 });
      expect(b[1]!.reduce_scatter).toBe(4 * (W - 1) * counts[r]!);
      // reduce-scatter phase: W-1 copies of my part; all-gather phase: everyone else's part
      expect(b[2]!.all_reduce).toBe(4 * ((W - 1) * arPart(n, W, r) + n - arPart(n, W, r)));
      expect(b[3]!.all_to_all).toBe(4 * (sum(range(W).map((j) => a2aCount(j, r))) - a2aCount(r, r)));
      expect(b[4]!.send_recv).toBe(4 * 7);
      expect(b[5]!.send_recv).toBe(r === 0 ? 0 : 4 * (4 + r));
      expect(b[6]).toEqual({
        all_gather: 0,
        reduce_scatter: 0,
        all_reduce: 0,
        all_to_all: 0,
        send_recv: 0,
        barrier: 0,
      });
      expect(b[7]).toEqual({
        all_gather: 4 * 4 * (W - 1),
        reduce_scatter: 4 * 2 * (W - 1),
        all_reduce: 4 * ((W - 1) * arPart(9, W, r) + 9 - arPart(9, W, r)),
        all_to_all: 0,
        send_recv: 4 * 3,
        barrier: 0,
      });
    }
  });
});
