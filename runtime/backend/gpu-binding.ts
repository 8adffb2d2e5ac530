// One GPU per process under a launcher. mpirun, srun and torchrun-style launchers start one process per
// rank and tell each its rank on the node; left alone, every process would see every GPU of the node, and
// TensorFlow (tfjs-node-gpu, `--backend tensorflow`) would put its work on GPU 0 and reserve memory on all of
// them. bindLocalGpu narrows CUDA_VISIBLE_DEVICES to the local rank's GPU before any backend loads.
// Dawn (`--backend webgpu`) enumerates GPUs through Vulkan, which CUDA_VISIBLE_DEVICES does not filter: there
// the ranks spread over the GPUs through the device-tag layer (vk-device-tag.ts).
import { readdirSync } from "node:fs";

export interface LocalRank {
  /** this process's rank among the ranks of its node */
  readonly rank: number;
  /** how many ranks the node runs, where the launcher says */
  readonly size: number | null;
  /** the variable it came from */
  readonly source: string;
}

/** Local rank variables, most specific first: Open MPI, MPICH / Intel MPI, Slurm, PMI, torchrun-style. */
const LOCAL_RANK_VARS: readonly (readonly [string, string | null])[] = [
  ["OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"],
  ["MPI_LOCALRANKID", "MPI_LOCALNRANKS"],
  ["SLURM_LOCALID", null],
  ["PMI_LOCAL_RANK", "PMI_LOCAL_SIZE"],
  ["LOCAL_RANK", "LOCAL_WORLD_SIZE"],
];

const wholeNumber = (v: string | undefined): number | null => (v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : null);

/** This process's rank on its node as its launcher set it, or null outside a launcher. */
export function launcherLocalRank(env: NodeJS.ProcessEnv = process.env): LocalRank | null {
  for (const [key, sizeKey] of LOCAL_RANK_VARS) {
    const rank = wholeNumber(env[key]);
    if (rank === null) continue;
    return { rank, size: sizeKey === null ? null : wholeNumber(env[sizeKey]), source: key };
  }
  return null;
}

/** NVIDIA GPUs of this machine: /dev/nvidia0, /dev/nvidia1, ... (nvidiactl and nvidia-uvm are not GPUs). */
export function countNvidiaGpus(dev = "/dev"): number {
  try {
    return readdirSync(dev).filter((n) => /^nvidia\d+$/.test(n)).length;
  } catch {
    return 0;
  }
}

export interface GpuBinding {
  readonly localRank: LocalRank;
  /** the CUDA device this process uses (an index or a UUID, as CUDA_VISIBLE_DEVICES names it) */
  readonly device: string;
  /** the GPUs the node's ranks are spread over */
  readonly visible: readonly string[];
  /** more ranks on the node than GPUs: some ranks share one */
  readonly shared: boolean;
  /** CUDA_VISIBLE_DEVICES was changed (false where it already named one device) */
  readonly changed: boolean;
}

/**
 * Sets CUDA_VISIBLE_DEVICES to the local rank's GPU: entry (rank mod n) of the list CUDA_VISIBLE_DEVICES
 * already holds, else of the node's n NVIDIA GPUs. Returns null outside a launcher, on a machine with no
 * NVIDIA GPU, or with LASP_GPU_BIND=0. A list of one device is left as it is (the launcher bound it).
 */
export function bindLocalGpu(env: NodeJS.ProcessEnv = process.env, gpuCount: () => number = countNvidiaGpus): GpuBinding | null {
  if (env["LASP_GPU_BIND"] === "0") return null;
  const localRank = launcherLocalRank(env);
  if (localRank === null) return null;
  const listed = (env["CUDA_VISIBLE_DEVICES"] ?? "")
    .split(",")
    .map((d) => d.trim())
    .filter((d) => d !== "");
  const visible = listed.length > 0 ? listed : Array.from({ length: gpuCount() }, (_, i) => String(i));
  if (visible.length === 0) return null;
  const device = visible[localRank.rank % visible.length]!;
  const shared = (localRank.size ?? localRank.rank + 1) > visible.length;
  const changed = !(listed.length === 1 && listed[0] === device);
  env["CUDA_VISIBLE_DEVICES"] = device;
  return { localRank, device, visible, shared, changed };
}
