// Run under mpirun (test/mpi/faults.test.ts): one rank (argv[3]) fails in a chosen way (argv[2]) while
// the others wait in an all_gather; the job must end non-zero, naming that rank, and never hang.
import { loadMpi } from "../../../runtime/comm/mpi/binding.ts";
import { mpiRankContext } from "../../../runtime/comm/mpi/context.ts";
import { MpiCommunicator } from "../../../runtime/comm/mpi/mpi-communicator.ts";

const mode = process.argv[2] as "exit" | "kill" | "throw" | "hang";
const victim = Number(process.argv[3]);
// a long limit for everything but the last collective, so a slow start on a loaded machine is no fault
const ctx = await mpiRankContext(Number(process.env["FAULT_W"]), 1, { timeoutMs: 60_000 });
// the world again, with the short limit under test (only a hung peer should ever hit it)
const short = new MpiCommunicator(loadMpi(), 0, "world", {
  worldRank: ctx.rank,
  timeoutMs: Number(process.env["FAULT_TIMEOUT_MS"] ?? 20_000),
});
await ctx.world.startAllReduce(Float32Array.of(1), "warmup").wait();
ctx.post({ ready: true });

if (ctx.rank === victim) {
  switch (mode) {
    case "exit":
      process.exit(3);
      break;
    case "kill":
      process.kill(process.pid, "SIGKILL");
      break;
    case "throw":
      throw new Error(`injected failure on rank ${victim}`);
    case "hang":
      // stays alive and never joins the collective: only the others' timeouts can end the job
      await new Promise((resolve) => setTimeout(resolve, 600_000));
      break;
    default:
      mode satisfies never;
  }
}
await short.startAllGather(new Float32Array(4), "layer3.fwd.state").wait();
ctx.post({ unexpected: "all_gather completed without the victim" });
