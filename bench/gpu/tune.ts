// Second-pass measurements: tiled-matmul tile configurations (each checked against float64 first),
// the cost of one small tfjs op on the GPU, and linear attention's speed against its block size.
import * as tf from "@tensorflow/tfjs-core";
import { setTileOverride } from "../../runtime/backend/wgsl/matmul-tiled.ts";
import { checkTile, type TileConfig } from "../../runtime/backend/wgsl/matmul-tiled-source.ts";
import { linearSpeed } from "./attention-check.ts";
import { randomF32, record, rows, secondsLeft, sync } from "./common.ts";
import { CASES, checkCase, timeSquare } from "./matmul-bench.ts";

export const TILES: TileConfig[] = [
  { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
  { bm: 128, bn: 128, bk: 32, tm: 8, tn: 8 },
  { bm: 128, bn: 64, bk: 16, tm: 8, tn: 4 },
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  { bm: 256, bn: 128, bk: 16, tm: 16, tn: 8 },
];

const tileName = (t: TileConfig): string => `${t.bm}x${t.bn}x${t.bk} thread ${t.tm}x${t.tn}`;

export async function tileSweep(sizes: number[], peakTflops: number | null, maxReps: number): Promise<void> {
  for (const [i, t] of TILES.entries()) {
    checkTile(t);
    setTileOverride(t);
    try {
      const before = rows.length;
      await checkCase(CASES[1]!, "tiled", 500 + 2 * i, null);
      await checkCase(CASES[4]!, "tiled", 501 + 2 * i, null);
      const ok = rows.slice(before).every((r) => r.pass === true);
      for (const n of sizes) {
        if (!ok || secondsLeft() < 20) break;
        const ms = await timeSquare(n, "tiled", maxReps);
        const gflops = (2 * n ** 3) / (ms * 1e6);
        const note = peakTflops ? `${((gflops / (peakTflops * 1000)) * 100).toFixed(1)}% of peak` : "";
        record({ section: "tile-sweep", name: `${n}^3 ${tileName(t)}`, ms, rate: gflops, unit: "GFLOP/s", note });
      }
    } finally {
      setTileOverride(null);
    }
  }
}

/** Wall time per op of a chain of `count` dependent small ops, synchronised once at the end. */
export async function dispatchCost(count: number): Promise<void> {
  for (const [name, size] of [
    ["add on 256 floats", 256],
    ["add on 1M floats", 1 << 20],
  ] as const) {
    let x = tf.tensor1d(randomF32(size, 7));
    const warm = tf.add(x, 1);
    await sync(warm);
    warm.dispose();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const y = tf.add(x, 1);
      x.dispose();
      x = y as tf.Tensor1D;
    }
    await sync(x);
    const us = ((performance.now() - t0) * 1000) / count;
    record({ section: "dispatch", name: `${count} chained ${name}`, ms: us / 1000, note: `${us.toFixed(1)} us per op` });
    x.dispose();
  }
}

export async function blockSweep(n: number, blocks: number[], bh: number, d: number): Promise<void> {
  for (const b of blocks) {
    // without the fused diagonal tile the scores [bh*n/b, b, b] are one binding: over 2 GiB the GPU skips it
    if (process.env["LASP_WEBGPU_FUSED"] === "0" && bh * n * b * 4 > 2147483644) {
      console.log(`[linear-speed] n=${n} bh=${bh} block=${b}: skipped, unfused scores of ${(bh * n * b * 4) / 2 ** 30} GiB exceed the 2 GiB binding limit`);
      continue;
    }
    await linearSpeed([n], bh, d, b);
  }
}
