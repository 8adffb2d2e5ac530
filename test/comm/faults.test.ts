// Faults under launchRanks: a rank that throws, exits, returns early, skips a collective, stalls or
// overflows the arena makes launchRanks reject with ONE CommError naming it, and no thread is left hanging.
import { describe, expect, it } from "vitest";
import { CommError } from "../../runtime/comm/communicator.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import type { FaultArgs } from "./ranks/faults.ts";

// Guard on the whole test (worker start-up included, on a loaded 2-core machine): below the 60 s
// comm timeout, so a throw / exit that is noticed only by the peers' timeouts fails the test.
const GUARD_MS = 30_000;
const entry = new URL("./ranks/faults.ts", import.meta.url);
const run = (sp: number, args: FaultArgs, timeoutMs = 60_000, capacityBytes?: number): Promise<number[]> =>
  launchRanks<number>({ sp, dp: 1, entry, args, timeoutMs, ...(capacityBytes === undefined ? {} : { capacityBytes }) });

async function failure(p: Promise<unknown>): Promise<CommError> {
  const e: unknown = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CommError);
  return e as CommError;
}

describe("launchRanks faults", () => {
  it("a clean run returns every rank's result in rank order", async () => {
    const W = 3;
    const res = await run(W, { mode: "none", who: 0, step: 0, steps: 4 });
    // step k gathers (r + k) from each rank r: sum_k (3 + 3k) = 12 + 18
    expect(res).toEqual([30, 30, 30]);
  });

  it("labels that differ across ranks are accepted with checkLabels: false, rejected by default", async () => {
    const args: FaultArgs = { mode: "rankLabels", who: 0, step: 0, steps: 4 };
    expect(await launchRanks<number>({ sp: 2, dp: 1, entry, args, checkLabels: false })).toEqual([16, 16]);
    const e = await failure(launchRanks<number>({ sp: 2, dp: 1, entry, args }));
    expect(e.message).toMatch(
      /all_gather 'step0@[01]'.*labels differ; launchRanks option checkLabels: false allows that/,
    );
  });

  it(
    "a rank that throws at step k: rejects naming the rank, its error and what it was doing",
    { timeout: GUARD_MS },
    async () => {
      const e = await failure(run(3, { mode: "throw", who: 2, step: 3, steps: 6 }));
      expect(e.rank).toBe(2);
      expect(e.message).toContain("rank 2 threw Error: boom at step 3");
      expect(e.message).toContain("all_gather 'step2'");
    },
  );

  it(
    "a rank whose worker calls process.exit: rejects naming the rank and its last collective",
    { timeout: GUARD_MS },
    async () => {
      const e = await failure(run(2, { mode: "exit", who: 1, step: 2, steps: 5 }));
      expect(e.rank).toBe(1);
      expect(e.message).toMatch(/rank 1 exited with code 3 .*all_gather 'step1'/);
    },
  );

  it(
    "a rank whose worker dies of an uncaught error: rejects naming the rank and the error",
    { timeout: GUARD_MS },
    async () => {
      const e = await failure(run(3, { mode: "crash", who: 0, step: 1, steps: 3 }));
      expect(e.rank).toBe(0);
      expect(e.message).toMatch(/rank 0 crashed: Error: async boom .*all_gather 'step0'/);
    },
  );

  it(
    "an entry module that fails to load on one rank: rejects naming it, no rank hangs at the start",
    { timeout: GUARD_MS },
    async () => {
      const bad = new URL("./ranks/bad-import.ts", import.meta.url);
      const e = await failure(launchRanks<number>({ sp: 3, dp: 1, entry: bad, args: null }));
      expect(e.rank).toBe(1);
      expect(e.message).toContain("rank 1 threw Error: cannot load this module on rank 1");
    },
  );

  it(
    "a rank that returns early: the others time out naming the collective and the missing rank",
    { timeout: GUARD_MS },
    async () => {
      const e = await failure(run(3, { mode: "return", who: 1, step: 2, steps: 4 }, 1500));
      expect(e.message).toMatch(
        /timeout after 1500 ms in all_gather 'step2' on world: world rank 1 \(world 1\) has not started it/,
      );
      expect(e.label).toBe("step2");
      expect([0, 2]).toContain(e.rank);
    },
  );

  it("a rank that skips one collective: a mismatch error naming both collectives", { timeout: GUARD_MS }, async () => {
    const e = await failure(run(2, { mode: "skip", who: 0, step: 1, steps: 4 }));
    expect(e.message).toMatch(
      /differs across ranks: this rank is at all_gather 'step[12]', world rank [01] \(world [01]\) is at all_gather 'step[12]'/,
    );
  });

  it("a rank stalled outside any collective: the others time out", { timeout: GUARD_MS }, async () => {
    const e = await failure(run(2, { mode: "stall", who: 1, step: 1, steps: 3 }, 1000));
    expect(e.rank).toBe(0);
    expect(e.message).toContain("timeout after 1000 ms in all_gather 'step1'");
  });

  it("a message larger than the arena: CommError naming capacityBytes", { timeout: GUARD_MS }, async () => {
    const e = await failure(run(2, { mode: "oversize", who: 1, step: 1, steps: 3 }, 60_000, 1 << 20));
    expect(e.rank).toBe(1);
    expect(e.message).toContain("message of 4194304 bytes exceeds the arena capacity of 1048576 bytes");
    expect(e.message).toContain("capacityBytes");
  });

  it("after a clean run every worker ends on its own; one kept alive by a timer is terminated after the grace", { timeout: GUARD_MS }, async () => {
    const exits = async (args: FaultArgs, exitGraceMs: number): Promise<{ res: number[]; codes: number[]; ms: number }> => {
      const codes: number[] = [];
      const t0 = performance.now();
      const res = await launchRanks<number>({ sp: 3, dp: 1, entry, args, exitGraceMs, onExit: (r, code) => (codes[r] = code) });
      return { res, codes, ms: performance.now() - t0 };
    };
    const clean = await exits({ mode: "none", who: 0, step: 0, steps: 4 }, 20_000);
    expect(clean.res).toEqual([30, 30, 30]);
    expect(clean.codes).toEqual([0, 0, 0]);
    const linger = await exits({ mode: "linger", who: 2, step: 1, steps: 4 }, 400);
    expect(linger.res).toEqual([30, 30, 30]);
    expect(linger.codes).toEqual([0, 0, 1]);
    expect(linger.ms).toBeGreaterThanOrEqual(400);
  });

  it("after a rank fails the woken peers end on their own before the rejection; a stalled one is terminated after the grace", { timeout: GUARD_MS }, async () => {
    const exits = async (args: FaultArgs, failGraceMs: number): Promise<{ e: CommError; codes: number[] }> => {
      const codes: number[] = [];
      const e = await failure(launchRanks<number>({ sp: 3, dp: 1, entry, args, failGraceMs, timeoutMs: 1_000, onExit: (r, code) => (codes[r] = code) }));
      return { e, codes: [...codes] };
    };
    // every worker had ended (and said so) by the time launchRanks rejected
    const thrown = await exits({ mode: "throw", who: 2, step: 3, steps: 6 }, 20_000);
    expect(thrown.e.rank).toBe(2);
    expect(thrown.codes).toEqual([0, 0, 0]);
    const stalled = await exits({ mode: "stall", who: 1, step: 1, steps: 4 }, 300);
    expect(stalled.codes).toHaveLength(3);
    expect(stalled.codes[1]).toBe(1);
  });
});
