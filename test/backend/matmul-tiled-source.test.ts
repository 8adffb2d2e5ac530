// The tiled matmul's WGSL generator and its shape planner, checked without a GPU.
import { describe, expect, it } from "vitest";
import {
  TILE_LARGE,
  TILE_SMALL,
  checkTile,
  tiledMatmulWgsl,
  workgroupSize,
} from "../../runtime/backend/wgsl/matmul-tiled-source.ts";
import { MIN_TILED_WORK, planTiledMatmul } from "../../runtime/backend/wgsl/matmul-tiled.ts";

describe("tiledMatmulWgsl", () => {
  for (const tile of [TILE_LARGE, TILE_SMALL])
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      it(`unrolls ${tile.tm}x${tile.tn} accumulators per thread (transA=${ta}, transB=${tb})`, () => {
        const src = tiledMatmulWgsl(tile, ta, tb);
        expect(src.match(/= fma\(/g)?.length).toBe((tile.tm * tile.tn) / 4);
        expect(src.match(/var acc_\d+_\d+ = vec4<f32>\(0\.0\);/g)?.length).toBe((tile.tm * tile.tn) / 4);
        expect(src.match(/result\[cOff \+ row \* N \+ col\]/g)?.length).toBe(tile.tm * tile.tn);
        expect(src).toContain(`array<vec4<f32>, ${(tile.bk * tile.bm) / 4}>`);
        expect(src).toContain(ta ? "A[aOff + gk * M + gm]" : "A[aOff + gm * K + gk]");
        expect(src).toContain(tb ? "B[bOff + gn * K + gk]" : "B[bOff + gk * N + gn]");
        expect(src).not.toMatch(/undefined|NaN|\$\{/);
        expect(src.match(/workgroupBarrier\(\)/g)?.length).toBe(2);
      });

  it("gives 256 threads for the large tile and the small one", () => {
    expect(workgroupSize(TILE_LARGE)).toEqual([16, 16, 1]);
    expect(workgroupSize(TILE_SMALL)).toEqual([16, 16, 1]);
  });

  it("rejects tiles it cannot express", () => {
    expect(() => checkTile({ bm: 128, bn: 128, bk: 16, tm: 6, tn: 8 })).toThrow(/unsupported tile/);
    expect(() => checkTile({ bm: 256, bn: 256, bk: 16, tm: 8, tn: 8 })).toThrow(/unsupported tile/);
    expect(() => checkTile({ bm: 128, bn: 128, bk: 3, tm: 8, tn: 8 })).toThrow(/unsupported tile/);
  });
});

describe("planTiledMatmul", () => {
  it("reads M, K, N through the transposes", () => {
    const p = planTiledMatmul([3, 70, 130], [3, 70, 257], true, false);
    expect(p).toMatchObject({ M: 130, K: 70, N: 257, batch: 3, aBatch: 130 * 70, bBatch: 70 * 257 });
    expect(p?.outShape).toEqual([3, 130, 257]);
    const q = planTiledMatmul([129, 33], [65, 33], false, true);
    expect(q).toMatchObject({ M: 129, K: 33, N: 65, batch: 1, outShape: [129, 65] });
  });

  it("broadcasts a single matrix over the other operand's batch", () => {
    const p = planTiledMatmul([300, 64], [2, 4, 64, 290], false, false);
    expect(p).toMatchObject({ batch: 8, aBatch: 0, bBatch: 64 * 290, outShape: [2, 4, 300, 290] });
    const q = planTiledMatmul([1, 5, 300, 64], [1, 64, 290], false, false);
    expect(q).toMatchObject({ batch: 5, aBatch: 300 * 64, bBatch: 0, outShape: [1, 5, 300, 290] });
  });

  it("leaves two-way batch broadcasts, mismatched K and small products to tfjs", () => {
    expect(planTiledMatmul([2, 1, 128, 128], [1, 3, 128, 128], false, false)).toBeNull();
    expect(planTiledMatmul([128, 64], [65, 128], false, false)).toBeNull();
    expect(planTiledMatmul([16, 16], [16, 16], false, false)).toBeNull();
    expect(MIN_TILED_WORK).toBeGreaterThan(16 * 16 * 16);
  });

  it("uses the small tile when large tiles would leave the GPU under-filled", () => {
    expect(planTiledMatmul([512, 512], [512, 512], false, false)?.tile).toBe(TILE_SMALL);
    expect(planTiledMatmul([4096, 512], [512, 4096], false, false)?.tile).toBe(TILE_LARGE);
  });
});
