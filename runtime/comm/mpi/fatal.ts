// Job-wide failure under mpirun: an uncaught error or a non-zero exit on one rank calls MPI_Abort, so
// mpirun kills every rank at once ("MPI_ABORT was invoked on rank R") instead of leaving peers waiting.
import type { MpiBinding } from "./binding.ts";

let installed = false;

/** Installs once per process: uncaughtException / unhandledRejection / exit hooks that end the job. */
export function installFatalHandlers(mpi: MpiBinding, rank: number): void {
  if (installed) return;
  installed = true;
  const die = (what: string, e: unknown): never => {
    const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`lasp mpi: rank ${rank} ${what}: ${text}\nlasp mpi: rank ${rank} aborts the job\n`);
    return mpi.abort(1);
  };
  process.on("uncaughtException", (e) => die("failed", e));
  process.on("unhandledRejection", (e) => die("failed (unhandled rejection)", e));
  process.on("exit", (code) => {
    if (mpi.state() !== "initialized") return;
    if (code === 0) {
      try {
        mpi.finalize();
      } catch (e) {
        process.stderr.write(`lasp mpi: rank ${rank} cannot finalize (${(e as Error).message}); aborting the job\n`);
        mpi.abort(1);
      }
    } else {
      process.stderr.write(`lasp mpi: rank ${rank} exits with code ${code}; aborting the job\n`);
      mpi.abort(code);
    }
  });
}
