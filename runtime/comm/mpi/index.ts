// The MPI transport: binding loader, Communicator, and the rank context used under mpirun.
export { loadMpi, mpiBindingPath, MPI_BUILD_HINT, type MpiBinding, type MpiInfo } from "./binding.ts";
export {
  MpiCommunicator,
  defaultMpiCollectives,
  type MpiCollectiveMode,
  defaultMpiTimeoutMs,
  type MpiCommunicatorOptions,
} from "./mpi-communicator.ts";
export { MpiHandle } from "./handle.ts";
export { mpiRankContext, mpiFinalize, type MpiRankContext, type MpiRankOptions } from "./context.ts";
export { installFatalHandlers } from "./fatal.ts";
export { runRankMain, plain } from "./run-rank.ts";
