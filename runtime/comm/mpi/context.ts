// The MPI launcher side of a rank: under `mpirun -np sp*dp`, each process builds the same RankContext
// as the worker-thread launcher (world / sp / dp communicators, post), so the executor runs unchanged.
import { bindLocalGpu, launcherLocalRank } from "../../backend/gpu-binding.ts";
import { prepareRankGpus, setRankOnNode } from "../../backend/vk-device-tag.ts";
import type { RankContext } from "../context.ts";
import { loadMpi, type MpiBinding } from "./binding.ts";
import { installFatalHandlers } from "./fatal.ts";
import {
  defaultMpiCollectives,
  defaultMpiTimeoutMs,
  MpiCommunicator,
  type MpiCollectiveMode,
} from "./mpi-communicator.ts";

/** runtime/comm/context.ts RankContext; `post` writes one JSON line `{"rank":R,"post":msg}` on stdout. */
export type MpiRankContext = RankContext;

export interface MpiRankOptions {
  /** wait limit of every communicator (default LASP_COMM_TIMEOUT_MS, else 120 s) */
  timeoutMs?: number;
  /** abort the whole job on an uncaught error or a non-zero exit (default true) */
  fatalHandlers?: boolean;
  /** how collectives run (default LASP_MPI_COLLECTIVES, else "nonblocking"; see MpiCollectiveMode) */
  collectives?: MpiCollectiveMode;
}

/**
 * Initializes MPI and splits the world into the sp x dp mesh: world rank = dpIndex * sp + spIndex,
 * SP groups are consecutive ranks (color dpIndex, key spIndex), DP groups stride sp.
 */
export async function mpiRankContext(sp: number, dp: number, opts: MpiRankOptions = {}): Promise<MpiRankContext> {
  const mpi = loadMpi();
  const info = mpi.init();
  if (opts.fatalHandlers ?? true) installFatalHandlers(mpi, info.rank);
  if (info.size !== sp * dp) {
    throw new Error(
      `rank ${info.rank}: mpirun started ${info.size} ranks but the mesh sp=${sp} x dp=${dp} needs ${sp * dp} (mpirun -np ${sp * dp})`,
    );
  }
  // one GPU per process (CUDA_VISIBLE_DEVICES from the launcher's local rank), before any backend loads
  const gpu = bindLocalGpu();
  if (gpu?.shared === true && gpu.localRank.rank === 0)
    process.stderr.write(
      `lasp: ${gpu.localRank.size ?? "more"} ranks on this node share ${gpu.visible.length} GPU(s) (${gpu.localRank.source}); ` +
        "each rank takes GPU (local rank mod GPUs) of CUDA_VISIBLE_DEVICES\n",
    );
  // the same for WebGPU, whose Vulkan devices CUDA_VISIBLE_DEVICES does not filter (vk-device-tag.ts)
  const local = launcherLocalRank();
  setRankOnNode(local?.rank ?? info.rank);
  prepareRankGpus(local?.size ?? info.size);
  const timeoutMs = opts.timeoutMs ?? defaultMpiTimeoutMs();
  const spIndex = info.rank % sp;
  const dpIndex = Math.floor(info.rank / sp);
  const c = { worldRank: info.rank, timeoutMs, collectives: opts.collectives ?? defaultMpiCollectives() };
  const spComm = mpi.commSplit(0, dpIndex, spIndex);
  const dpComm = mpi.commSplit(0, spIndex, dpIndex);
  const rank = info.rank;
  return {
    rank,
    world: new MpiCommunicator(mpi, 0, "world", c),
    sp: new MpiCommunicator(mpi, spComm, "sp", c),
    dp: new MpiCommunicator(mpi, dpComm, "dp", c),
    post(msg: unknown): void {
      process.stdout.write(JSON.stringify({ rank, post: msg }) + "\n");
    },
  };
}

/** MPI_Finalize when initialized (collective: every rank calls it once at the end). */
export function mpiFinalize(mpi: MpiBinding = loadMpi()): void {
  if (mpi.state() === "initialized") mpi.finalize();
}
