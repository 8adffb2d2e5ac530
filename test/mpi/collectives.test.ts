// Every MPI collective with uneven counts on 2, 3 and 4 processes under mpirun (world, SP and DP groups
// of the mesh), in both collective modes; results and byte counters checked by scripts/collectives.ts.
import { describe, expect, it } from "vitest";
import { mpirun } from "./mpirun.ts";

const SCRIPT = "test/mpi/scripts/collectives.ts";

describe("MpiCommunicator under mpirun", () => {
  it.each([
    { sp: 2, dp: 1, mode: "nonblocking" },
    { sp: 1, dp: 3, mode: "nonblocking" },
    { sp: 2, dp: 2, mode: "nonblocking" },
    { sp: 3, dp: 1, mode: "queued" },
  ])(
    "sp=$sp x dp=$dp, $mode: collectives, mesh groups and byte counters agree with plain loops",
    async ({ sp, dp, mode }) => {
      const W = sp * dp;
      const run = await mpirun(W, SCRIPT, [String(sp), String(dp)], {
        killAfterMs: 60_000,
        env: { LASP_MPI_COLLECTIVES: mode },
      });
      expect(run.stderr).not.toMatch(/lasp mpi: rank \d+ failed/);
      expect(run.code, run.stderr).toBe(0);
      const posts = run.json.map(
        (j) => j as { rank: number; post: { failures: string[]; checks: number; mode: string } },
      );
      expect(posts.map((p) => p.rank).sort()).toEqual(Array.from({ length: W }, (_, r) => r));
      for (const p of posts) {
        expect(p.post.failures, `rank ${p.rank}`).toEqual([]);
        expect(p.post.checks).toBe(38);
        expect(p.post.mode).toBe(mode);
      }
    },
  );
});
