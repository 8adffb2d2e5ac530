// Command line for one MPI rank: mpirun -np <sp*dp> node --import tsx runtime/comm/mpi/entry.ts \
//   <entry module> <sp> <dp> [args as JSON]   -- runs the module's rankMain under MPI (see run-rank.ts).
import { runRankMain } from "./run-rank.ts";

const [entry, sp, dp, args] = process.argv.slice(2);
if (entry === undefined || !(Number(sp) >= 1) || !(Number(dp) >= 1)) {
  process.stderr.write(
    "usage: mpirun -np <sp*dp> node --import tsx runtime/comm/mpi/entry.ts <module> <sp> <dp> [argsJSON]\n",
  );
  process.exit(2);
}
await runRankMain(entry, Number(sp), Number(dp), args === undefined ? null : JSON.parse(args));
