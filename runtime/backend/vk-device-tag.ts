// One GPU per rank for `--backend webgpu` on a machine with several GPUs. Dawn's Node binding picks an
// adapter by a part of its name only, and identical GPUs share one name, so without help every rank would
// open the first GPU. The Vulkan layer native/vulkan/device_tag.c appends " [lasp-gpu N]" to each device's
// name (N: its place in PCI-address order, the order nvidia-smi numbers GPUs in); each rank then asks Dawn
// for "adapter=[lasp-gpu K]", K = its rank on the node mod the node's GPUs. The choice is per Dawn
// instance, so the worker-thread ranks of one process spread over the GPUs as MPI processes do.
//
// The layer is switched on through the Vulkan loader's environment (VK_ADD_LAYER_PATH, VK_INSTANCE_LAYERS),
// which the loader reads from the process environment: only the main thread can set it (a worker's
// process.env is its own copy), so launchers call prepareRankGpus before starting workers, and
// mpiRankContext calls it in each MPI process.
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";

export const DEVICE_TAG_LAYER = "VK_LAYER_LASP_device_tag";
const LIBRARY = "libVkLayer_LASP_device_tag.so";
const MANIFEST = "VkLayer_LASP_device_tag.json";
/** Set by enableDeviceTags to the node's GPU count; workers inherit it with the environment. */
const MARKER = "LASP_VK_DEVICE_TAGS";

/** Where the layer is: LASP_VK_LAYER_DIR, else native/vulkan/build (npm run build:vk); null when not built. */
export function deviceTagLayerDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env["LASP_VK_LAYER_DIR"] ?? fileURLToPath(new URL("../../native/vulkan/build", import.meta.url));
  return existsSync(join(dir, LIBRARY)) && existsSync(join(dir, MANIFEST)) ? dir : null;
}

function accessible(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * GPUs of this node that ranks spread over: LASP_WEBGPU_GPUS where set; else the NVIDIA GPUs this process
 * may open (/dev/nvidiaN readable and writable: a cgroup that hides some GPUs hides them here too); else
 * the DRM render nodes (/dev/dri/renderD*: AMD, Intel).
 */
export function nodeGpuCount(env: NodeJS.ProcessEnv = process.env, dev = "/dev"): number {
  const set = env["LASP_WEBGPU_GPUS"];
  if (set !== undefined && set.trim() !== "") {
    const n = Number(set);
    if (!Number.isInteger(n) || n < 1) throw new Error(`LASP_WEBGPU_GPUS=${set}: expected a whole number >= 1`);
    return n;
  }
  const list = (d: string): string[] => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  const nvidia = list(dev).filter((n) => /^nvidia\d+$/.test(n) && accessible(join(dev, n)));
  if (nvidia.length > 0) return nvidia.length;
  return list(join(dev, "dri")).filter((n) => /^renderD\d+$/.test(n) && accessible(join(dev, "dri", n))).length;
}

export type DeviceTags = { enabled: true; gpus: number; layerDir: string } | { enabled: false; gpus: number; reason: string };

/** Whether tags are on in this thread's environment (inherited by workers), and over how many GPUs. */
export function deviceTagsOn(env: NodeJS.ProcessEnv = process.env): number | null {
  const v = env[MARKER];
  return v !== undefined && /^\d+$/.test(v) && Number(v) >= 1 ? Number(v) : null;
}

/**
 * Switches the layer on for Vulkan instances this process creates from now on, where `ranks` ranks share
 * a node of two or more GPUs and the layer is built. Call it on the main thread before workers start (they
 * inherit the environment). Idempotent. LASP_WEBGPU_ADAPTER (the user's own choice) and LASP_GPU_BIND=0 turn
 * it off.
 */
export function prepareRankGpus(ranks: number, env: NodeJS.ProcessEnv = process.env, dev = "/dev"): DeviceTags {
  const gpus = nodeGpuCount(env, dev);
  const already = deviceTagsOn(env);
  if (already !== null) return { enabled: true, gpus: already, layerDir: deviceTagLayerDir(env) ?? "" };
  if (ranks < 2 || gpus < 2) return { enabled: false, gpus, reason: `${ranks} rank(s) on ${gpus} GPU(s): nothing to spread` };
  if (env["LASP_GPU_BIND"] === "0") return { enabled: false, gpus, reason: "LASP_GPU_BIND=0: GPU choice left to the user" };
  if ((env["LASP_WEBGPU_ADAPTER"] ?? "").trim() !== "" || /(^|\s)adapter=/.test(env["LASP_WEBGPU_FLAGS"] ?? ""))
    return { enabled: false, gpus, reason: "LASP_WEBGPU_ADAPTER (or adapter= in LASP_WEBGPU_FLAGS) chooses the adapter" };
  if (env === process.env && !isMainThread)
    return { enabled: false, gpus, reason: "the Vulkan environment can only be set on the main thread" };
  const layerDir = deviceTagLayerDir(env);
  if (layerDir === null)
    return {
      enabled: false,
      gpus,
      reason: `the device-tag Vulkan layer is not built (apt-get install libvulkan-dev && npm run build:vk): all ranks use the first of ${gpus} GPUs`,
    };
  const add = env["VK_ADD_LAYER_PATH"];
  env["VK_ADD_LAYER_PATH"] = add === undefined || add === "" ? layerDir : `${layerDir}:${add}`;
  const layers = (env["VK_INSTANCE_LAYERS"] ?? "").split(":").filter((l) => l !== "");
  if (!layers.includes(DEVICE_TAG_LAYER)) layers.push(DEVICE_TAG_LAYER);
  env["VK_INSTANCE_LAYERS"] = layers.join(":");
  env[MARKER] = String(gpus);
  return { enabled: true, gpus, layerDir };
}

let rankOnNode: number | null = null;

/** This thread's rank among the ranks of its node (set by rankMain, or by mpiRankContext from the launcher). */
export function setRankOnNode(rank: number): void {
  rankOnNode = rank;
}

export function getRankOnNode(): number | null {
  return rankOnNode;
}

/** The tag of GPU `gpu` as the layer writes it into the device's name. */
export function deviceTag(gpu: number): string {
  return `[lasp-gpu ${gpu}]`;
}

/**
 * The Dawn flag that opens this rank's GPU: "adapter=[lasp-gpu K]", K = rank on the node mod GPUs; null
 * where tags are off, the rank is not known, or `flags` already choose an adapter.
 */
export function rankAdapterFlag(flags: readonly string[], env: NodeJS.ProcessEnv = process.env, rank = rankOnNode): string | null {
  const gpus = deviceTagsOn(env);
  if (gpus === null || rank === null || flags.some((f) => f.startsWith("adapter="))) return null;
  return `adapter=${deviceTag(rank % gpus)}`;
}

/**
 * The GPU number in an adapter name the layer tagged, and the name without the tags. Dawn reports the name
 * as a slug in adapter.info.device ("nvidia-h100-80gb-hbm3-lasp-gpu-3-") and as written in its messages.
 * Where Vulkan shows fewer devices than LASP_WEBGPU_GPUS claims, a device answers to several numbers
 * ("... [lasp-gpu 0] [lasp-gpu 2]"); the first is its place.
 */
export function splitDeviceTag(name: string): { name: string; gpu: number | null } {
  const m = /(?:(?: \[lasp-gpu \d+\])+|(?:-?lasp-gpu-\d+)+-?)$/.exec(name);
  if (m === null) return { name, gpu: null };
  return { name: name.slice(0, m.index), gpu: Number(/\d+/.exec(m[0])![0]) };
}

/**
 * prepareRankGpus for a launcher of `ranks` worker-thread ranks on this node: with `--backend webgpu` it says
 * on stderr how ranks map to GPUs, or why they all use the first one, and checks an adapter the user named
 * (webgpu.ts: checkNamedAdapter) here on the main thread, where a wrong name is an error and not an abort.
 */
export async function spreadRanksOverGpus(
  ranks: number,
  backend: string,
  write: (s: string) => void = (s) => void process.stderr.write(s),
): Promise<DeviceTags> {
  if (backend === "webgpu") {
    const { checkNamedAdapter } = await import("./webgpu.ts");
    const bad = await checkNamedAdapter();
    if (bad !== null) {
      const { BackendUnavailableError } = await import("./index.ts");
      throw new BackendUnavailableError(`--backend webgpu: ${bad}`);
    }
    const { holdDawnOnMainThread } = await import("./webgpu.ts");
    const held = await holdDawnOnMainThread();
    if (process.env["LASP_DAWN_MAIN"] !== undefined) write(`lasp: main thread Dawn: ${held}\n`);
  }
  const tags = prepareRankGpus(ranks);
  if (backend !== "webgpu" || ranks < 2 || tags.gpus < 2) return tags;
  if (tags.enabled) write(`lasp: ${ranks} ranks over ${tags.gpus} GPUs: rank r opens GPU (r mod ${tags.gpus}) in PCI order\n`);
  else write(`lasp: ${ranks} ranks, ${tags.gpus} GPUs: ${tags.reason}\n`);
  return tags;
}
