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

function check(got: Float32Array, want: Float32Array): Check {
  let wrong = got.length === want.length ? 0 : 1;
  let first = -1;
  const n = Math.min(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) {
      wrong++;
      if (first < 0) first = i;
    }
  }
  return { wrong, first, length: got.length };
}

/** Sum over ranks q < W of fill(tag, q, n, offset), in rank order (float32, as the transport sums). */
function sumFill(tag: number, W: number, n: number, offset = 0): Float32Array {
  const out = fill(tag, 0, n, offset);
  for (let q = 1; q < W; q++) {
    const x = fill(tag, q, n, offset);
    for (let i = 0; i < n; i++) out[i]! += x[i]!;
  }
  return out;
}

export async function rankMain(ctx: RankContext): Promise<LargeResult> {
  const c = ctx.world;
  const W = c.size;
  const r = c.rank;
  const n = (16 * MiB) / 4;
  const part = n / W;
  const prev = (r + W - 1) % W;
  const checks: Record<string, Check> = {};
  checks.allReduce = check(await c.startAllReduce(fill(1, r, n), "big.ar").wait(), sumFill(1, W, n));
  const gathered = new Float32Array(n);
  for (let q = 0; q < W; q++) gathered.set(fill(2, q, part), q * part);
  checks.allGather = check(await c.startAllGather(fill(2, r, part), "big.ag").wait(), gathered);
  checks.reduceScatter = check(await c.startReduceScatter(fill(3, r, n), "big.rs").wait(), sumFill(3, W, part, r * part));
  checks.sendRecv = check(await c.startSendRecv(fill(4, r, n), (r + 1) % W, prev, n, "big.p2p").wait(), fill(4, prev, n));
  const b = c.bytesReceived();
  return { checks, bytes: { all_reduce: b.all_reduce, all_gather: b.all_gather, reduce_scatter: b.reduce_scatter, send_recv: b.send_recv } };
}
