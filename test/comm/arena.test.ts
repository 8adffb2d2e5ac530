// The ring allocator of the worker-thread arena: live allocations never overlap or leave the region,
// space comes back oldest first, and an empty region restarts at offset 0.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RingArena } from "../../runtime/comm/threads/arena.ts";

describe("RingArena", () => {
  it("never hands out overlapping or out-of-range space (random alloc / release sequences)", () => {
    const step = fc.oneof(fc.record({ alloc: fc.integer({ min: 1, max: 40 }) }), fc.record({ release: fc.nat(20) }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const cap = 100;
        const a = new RingArena(cap);
        const live: { off: number; len: number; freed: boolean }[] = [];
        for (const s of steps) {
          if ("release" in s) {
            const x = live[s.release % Math.max(live.length, 1)];
            if (x) x.freed = true;
            continue;
          }
          const rec = { off: -1, len: s.alloc, freed: false };
          const off = a.tryAlloc(s.alloc, () => rec.freed);
          // reclaim is FIFO: only the freed prefix of `live` is really free
          while (live[0]?.freed) live.shift();
          if (off === null) {
            if (live.length === 0) expect.fail("an empty arena refused a fitting allocation");
            continue;
          }
          rec.off = off;
          expect(off).toBeGreaterThanOrEqual(0);
          expect(off + s.alloc).toBeLessThanOrEqual(cap);
          for (const o of live) expect(off + s.alloc <= o.off || o.off + o.len <= off).toBe(true);
          live.push(rec);
        }
      }),
    );
  });

  it("wraps around once the oldest allocation is released, and restarts at 0 when empty", () => {
    const a = new RingArena(10);
    const freed = [false, false, false, false];
    expect(a.tryAlloc(4, () => freed[0]!)).toBe(0);
    expect(a.tryAlloc(4, () => freed[1]!)).toBe(4);
    expect(a.tryAlloc(3, () => freed[2]!)).toBeNull();
    freed[1] = true; // not the oldest: still held (FIFO)
    expect(a.tryAlloc(3, () => freed[2]!)).toBeNull();
    freed[1] = false;
    freed[0] = true;
    expect(a.tryAlloc(3, () => freed[2]!)).toBe(0); // 2 left at the end, 4 at the start: wrap
    expect(a.tryAlloc(1, () => freed[3]!)).toBe(3); // between the wrapped head and the oldest
    expect(a.tryAlloc(1, () => false)).toBeNull();
    expect(a.inFlight()).toEqual({ count: 3, elements: 8 });
    freed[1] = freed[2] = freed[3] = true;
    expect(a.tryAlloc(10, () => false)).toBe(0);
    expect(a.tryAlloc(11, () => false)).toBeNull();
  });
});
