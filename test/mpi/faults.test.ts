// A rank that dies (exit, SIGKILL, uncaught error) or hangs ends the whole mpirun job with a non-zero
// status and a message naming it (or naming the timed-out collective), within a bound, never a hang.
import { describe, expect, it } from "vitest";
import { mpirun } from "./mpirun.ts";

const SCRIPT = "test/mpi/scripts/fault.ts";
const BOUND_MS = 45_000;

describe("MPI job failure", () => {
  it.each([
    // our own line (written before MPI_Abort); Open MPI's "MPI_ABORT was invoked on rank R" banner is
    // usually there too but not always (its help message can be lost while the job is torn down)
    { mode: "exit", names: [/lasp mpi: rank 1 exits with code 3; aborting the job/] },
    { mode: "kill", names: [/process rank 1 with PID \d+ on node \S+ exited on signal 9/] },
    {
      mode: "throw",
      names: [/lasp mpi: rank 1 failed: Error: injected failure on rank 1/, /lasp mpi: rank 1 aborts the job/],
    },
    {
      mode: "hang",
      names: [
        /rank [02] \(world rank [02]\): all_gather 'layer3\.fwd\.state' timed out after 1500 ms/,
        /lasp mpi: rank [02] aborts the job/,
      ],
    },
  ])("a rank that does '$mode' ends the job non-zero, named in the output", async ({ mode, names }) => {
    const run = await mpirun(3, SCRIPT, [mode, "1"], {
      killAfterMs: BOUND_MS,
      env: { FAULT_W: "3", FAULT_TIMEOUT_MS: "1500" },
    });
    const out = run.stdout + run.stderr;
    expect(run.signal, `mpirun was still running after ${BOUND_MS} ms:\n${out}`).toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.json.filter((j) => (j["post"] as { ready?: boolean }).ready).length, out).toBe(3);
    expect(out).not.toMatch(/unexpected/);
    for (const re of names) expect(out).toMatch(re);
  });
});
