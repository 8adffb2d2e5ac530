// The worker-thread transport's rank suite (test/comm/ranks/suite.ts) runs unchanged under mpirun through
// runtime/comm/mpi/entry.ts, and every rank's result, byte counters included, equals the worker-thread run.
import { describe, expect, it } from "vitest";
import { plain } from "../../runtime/comm/mpi/run-rank.ts";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { mpirun } from "./mpirun.ts";

const ENTRY = "runtime/comm/mpi/entry.ts";

describe("MPI and worker-thread transports agree", () => {
  it.each([{ module: "test/comm/ranks/suite.ts", sp: 3, dp: 1 }])(
    "$module on sp=$sp x dp=$dp: same results on every rank",
    async ({ module, sp, dp }) => {
      const W = sp * dp;
      const run = await mpirun(W, ENTRY, [module, String(sp), String(dp)], { killAfterMs: 60_000 });
      expect(run.code, run.stderr).toBe(0);
      const byRank = new Map(run.json.map((j) => [j["rank"] as number, j["result"]]));
      expect([...byRank.keys()].sort()).toEqual(Array.from({ length: W }, (_, r) => r));

      const threads = await launchRanks<unknown>({
        sp,
        dp,
        entry: new URL(`../../${module}`, import.meta.url),
        args: null,
        timeoutMs: 20_000,
      });
      for (let r = 0; r < W; r++) expect(byRank.get(r), `rank ${r}`).toEqual(plain(threads[r]));
    },
  );
});
