// Rank module for the large-message test: 16 MiB collectives through a 16 MiB arena (so a rank that
// runs ahead must wait for its peers to release space), each result checked here element by element.
import type { RankContext } from "../../../runtime/comm/context.ts";
import { fill } from "../fixtures.ts";

export interface Check {
  /** number of wrong elements, the first wrong index (-1 when none), the result's length */
  wrong: number;
  first: number;
  length: number;
}

export interface LargeResult {
  checks: Record<string, Check>;
  bytes: Record<string, number>;
}

const MiB = 2 ** 20;

/**
 * Compare got[i] with base + mult * ((i + offset) % 997), the closed form of fill() summed over ranks
 * (all values are small integers, so float32 sums are exact).
 */
function check(got: Float32Array, length: number, base: number, mult: number, offset = 0, part = length): Check {
  let wrong = got.length === length ? 0 : 1;
  let first = -1;
  const n = Math.min(got.length, length);
  for (let i = 0; i < n; i++) {
    const q = Math.floor(i / part); // all_gather: part q comes from rank q
    if (got[i] !== base + q * 1000 + mult * ((i - q * part + offset) % 997)) {
      wrong++;
      if (first < 0) first = i;
    }
  }
  return { wrong, first, length: got.length };
}

export async function rankMain(ctx: RankContext): Promise<LargeResult> {
  const c = ctx.world;
  const W = c.size;
  const r = c.rank;
  const n = (16 * MiB) / 4;
  const part = n / W;
  const prev = (r + W - 1) % W;
  const checks: Record<string, Check> = {};
  // sum over ranks q of (tag 100 + q 1000 + m) = W tag 100 + 1000 W (W-1) / 2 + W m
  const summed = (tag: number): number => W * tag * 100 + (1000 * W * (W - 1)) / 2;
  checks.allReduce = check(await c.startAllReduce(fill(1, r, n), "big.ar").wait(), n, summed(1), W);
  checks.allGather = check(await c.startAllGather(fill(2, r, part), "big.ag").wait(), n, 200, 1, 0, part);
  checks.reduceScatter = check(
    await c.startReduceScatter(fill(3, r, n), "big.rs").wait(),
    part,
    summed(3),
    W,
    r * part,
  );
  checks.sendRecv = check(
    await c.startSendRecv(fill(4, r, n), (r + 1) % W, prev, n, "big.p2p").wait(),
    n,
    400 + prev * 1000,
    1,
  );
  const b = c.bytesReceived();
  return {
    checks,
    bytes: {
      all_reduce: b.all_reduce,
      all_gather: b.all_gather,
      reduce_scatter: b.reduce_scatter,
      send_recv: b.send_recv,
    },
  };
}
