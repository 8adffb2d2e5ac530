// WebGPU tensor backend in Node: Dawn's `webgpu` binding (Vulkan) drives tfjs-backend-webgpu. One
// adapter and device per thread (each worker rank calls startWebGPU itself); fails fast, with the
// reason, where there is no GPU, and never prints Dawn's warnings when the loader is missing.
import * as tf from "@tensorflow/tfjs-core";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setGpuKernels } from "../kernels/gpu-hooks.ts";
import { explainNoAdapter, gatherGpuFacts, gpuLikely, type GpuFacts } from "./webgpu-diagnose.ts";
import { rankAdapterFlag, splitDeviceTag } from "./vk-device-tag.ts";

export interface WebGPUInfo {
  vendor: string;
  architecture: string;
  device: string;
  /** the GPU's number on its node where ranks are spread over several (vk-device-tag.ts), else null */
  gpu: number | null;
  description: string;
  features: string[];
  limits: Record<string, number>;
  flags: string[];
}

export type WebGPUStart = { ok: true; info: WebGPUInfo; device: GPUDevice } | { ok: false; reason: string };

type Binding = { create: (flags: string[]) => GPU; globals: object };

export interface WebGPUOptions {
  /** Dawn flags; default `backend=vulkan` plus the space-separated LASP_WEBGPU_FLAGS. */
  flags?: string[];
  /** Loads Dawn's binding; replaced in tests to act out a missing package. */
  loadBinding?: () => Promise<Binding>;
  /** Facts about loader, nodes and ICDs; replaced in tests. */
  facts?: (dawnDir: string | null) => GpuFacts;
  /** BatchMatMul kernel: the tiled WGSL one (wgsl/matmul-tiled.ts) or tfjs's; default LASP_WEBGPU_MATMUL or "tiled". */
  matmul?: "tiled" | "tfjs";
  /** Fused WGSL attention kernels (wgsl/scan.ts, tile.ts, softmax.ts); default on unless LASP_WEBGPU_FUSED=0. */
  fused?: boolean;
}

interface Started {
  info: WebGPUInfo;
  device: GPUDevice;
}
let started: Started | null = null;
/**
 * Every Dawn GPU object this thread created. Dawn crashes when one is garbage-collected while an adapter or
 * device from it lives (a restart after stopWebGPU found navigator.gpu already set, left the new one
 * unreferenced, and aborted the process); they are few and small, so none is let go.
 */
const gpusKept: GPU[] = [];
let gpuErrors = 0;

const LIMITS_WANTED = [
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeInvocationsPerWorkgroup",
  "maxStorageBuffersPerShaderStage",
] as const;
const FEATURES_WANTED = ["timestamp-query", "subgroups", "shader-f16"];

/**
 * Dawn's flags: backend=vulkan unless LASP_WEBGPU_FLAGS names another, plus LASP_WEBGPU_FLAGS, plus
 * adapter=NAME from LASP_WEBGPU_ADAPTER (a part of the adapter's name: on a machine with different GPUs,
 * which one to use; Dawn lists the adapters it has when none matches). Identical cards share one name:
 * vk-device-tag.ts spreads ranks over those.
 */
export function defaultFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env["LASP_WEBGPU_FLAGS"] ?? "").split(/\s+/).filter((s) => s.length > 0);
  const adapter = (env["LASP_WEBGPU_ADAPTER"] ?? "").trim();
  if (adapter.length > 0 && !extra.some((f) => f.startsWith("adapter="))) extra.push(`adapter=${adapter}`);
  return extra.some((f) => f.startsWith("backend=")) ? extra : ["backend=vulkan", ...extra];
}

/** Folder of dawn.node for this platform, or null when the `webgpu` package is not installed. */
export function dawnDir(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve("webgpu");
    return join(dirname(main), "dist", `${process.platform}-${process.arch}`);
  } catch {
    return null;
  }
}

async function loadDawn(): Promise<Binding> {
  return await import("webgpu");
}

/** tfjs-backend-webgpu looks for these at evaluation time; Node 20 has no `navigator`. */
function installGlobals(globals: object, gpu: GPU): void {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(globals)) if (!(k in g)) g[k] = v;
  const nav = g["navigator"] as Record<string, unknown> | undefined;
  if (nav === undefined) {
    Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  } else if (nav["gpu"] === undefined) {
    Object.defineProperty(nav, "gpu", { value: gpu, configurable: true, writable: true });
  }
}

function describe(adapter: GPUAdapter, device: GPUDevice, flags: string[]): WebGPUInfo {
  const i = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of LIMITS_WANTED) limits[k] = Number(device.limits[k]);
  const tagged = splitDeviceTag(i.device);
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: tagged.name,
    gpu: tagged.gpu,
    description: i.description,
    features: [...device.features].map(String).sort(),
    limits,
    flags,
  };
}

/** A CPU implementation of Vulkan (Mesa's llvmpipe/lavapipe, SwiftShader): WebGPU runs, on the CPU. */
export function isSoftwareAdapter(info: { isFallbackAdapter?: boolean; architecture?: string; device?: string }): boolean {
  return info.isFallbackAdapter === true || info.architecture === "software" || /llvmpipe|lavapipe|swiftshader/i.test(info.device ?? "");
}

/** Whether a software adapter may be used: LASP_WEBGPU_SOFTWARE=1 (shader tests on a machine without a GPU). */
export function softwareAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env["LASP_WEBGPU_SOFTWARE"] === "1";
}

/** Dawn's error (its list of adapters spans lines) on one line. */
const oneLine = (e: unknown): string => (e as Error).message.replace(/\s+/g, " ").trim();
const NAMED_NOT_FOUND = "(LASP_WEBGPU_ADAPTER or adapter= in LASP_WEBGPU_FLAGS) names no adapter of this machine";

async function openDevice(gpu: GPU, facts: GpuFacts, flags: string[]): Promise<WebGPUStart> {
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    // Dawn throws, listing the adapters it has, when none matches an adapter= flag
    const chosen = flags.find((f) => f.startsWith("adapter="));
    if (chosen === undefined) throw e;
    const how = chosen.includes("[lasp-gpu ")
      ? "this rank's GPU was chosen by the device-tag Vulkan layer (vk-device-tag.ts), whose numbers are missing or too few " +
        "(set LASP_WEBGPU_GPUS to the node's GPU count, or LASP_WEBGPU_ADAPTER to choose one adapter by name)"
      : `${chosen.slice("adapter=".length)} ${NAMED_NOT_FOUND}`;
    return { ok: false, reason: `${how}: ${oneLine(e)}` };
  }
  if (adapter === null) return { ok: false, reason: explainNoAdapter(facts) };
  const ai = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (isSoftwareAdapter(ai) && !softwareAllowed() && !flags.includes("backend=null"))
    return {
      ok: false,
      reason:
        `no GPU adapter found: the only Vulkan device is a software one that runs on the CPU (${ai.description || ai.device}). ` +
        "Run on a machine with a GPU and its Vulkan driver; set LASP_WEBGPU_SOFTWARE=1 to run WebGPU on this " +
        "software device anyway (slow: for testing shaders); or run on the CPU with --backend wasm",
    };
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS_WANTED) requiredLimits[k] = Number(adapter.limits[k]);
  const requiredFeatures = FEATURES_WANTED.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  // tfjs pushes no error scopes: a failed dispatch (e.g. a tensor over maxStorageBufferBindingSize)
  // only shows here, and its output is garbage. Count them so callers can refuse such results.
  device.onuncapturederror = (e: GPUUncapturedErrorEvent) => {
    gpuErrors++;
    if (gpuErrors <= 3) console.error(`webgpu: uncaptured error: ${e.error.message}`);
  };
  void device.lost.then((l) => {
    if (l.reason !== "destroyed") console.error(`webgpu: device lost (${l.reason}): ${l.message}`);
  });
  return { ok: true, info: describe(adapter, device, flags), device };
}

/**
 * Checks that the device-tag layer numbered the adapters before a rank asks Dawn for "[lasp-gpu K]": in a
 * worker thread Dawn aborts the whole process (napi_throw) when no adapter matches an adapter= flag.
 * Returns why not, or null.
 */
async function probeDeviceTags(binding: Binding, flags: string[], facts: GpuFacts): Promise<string | null> {
  const off = "LASP_GPU_BIND=0 runs without the layer, every rank on the first GPU";
  const probe = binding.create(flags);
  gpusKept.push(probe);
  const adapter = await probe.requestAdapter({ powerPreference: "high-performance" });
  if (adapter === null)
    return (
      `${explainNoAdapter(facts)}. The device-tag Vulkan layer was on (VK_INSTANCE_LAYERS=${process.env["VK_INSTANCE_LAYERS"] ?? ""}): ` +
      `a layer the loader cannot load leaves Vulkan with no device (VK_LOADER_DEBUG=layer says why); ${off}`
    );
  if (splitDeviceTag(adapter.info.device).gpu === null)
    return (
      `the device-tag Vulkan layer did not number the adapters (${adapter.info.device}): the Vulkan loader did not load ` +
      `VK_LAYER_LASP_device_tag from VK_ADD_LAYER_PATH=${process.env["VK_ADD_LAYER_PATH"] ?? ""} (an old loader ignores that variable; ` +
      `VK_LOADER_DEBUG=layer says why); ${off}`
    );
  return null;
}

/**
 * Opens this thread's GPU device and makes tfjs's webgpu backend (on that device) the active backend.
 * Returns the reason instead of throwing when the binding, the loader or an adapter is missing.
 */
export async function startWebGPU(opts: WebGPUOptions = {}): Promise<WebGPUStart> {
  if (started !== null) {
    await tf.setBackend("webgpu");
    return { ok: true, ...started };
  }
  let binding: Binding;
  try {
    binding = await (opts.loadBinding ?? loadDawn)();
  } catch (e) {
    return {
      ok: false,
      reason:
        `the optional package \`webgpu\` (Dawn's Node binding) is missing or its ${process.platform}-${process.arch} ` +
        `binary failed to load (${(e as Error).message.split("\n")[0]}). Install it with \`npm install webgpu\` ` +
        "(dawn.node needs glibc 2.34 or newer), or run on the CPU with --backend wasm",
    };
  }
  const flags = opts.flags ?? defaultFlags();
  const facts = (opts.facts ?? gatherGpuFacts)(dawnDir());
  // Without a loader Dawn only prints a warning and finds nothing: skip it, stay quiet. (Dawn's
  // `backend=null` device, which compiles shaders but computes nothing, needs no loader.)
  const vulkan = !flags.some((f) => f.startsWith("backend=") && f !== "backend=vulkan");
  if (vulkan && facts.vulkanLoader === null) return { ok: false, reason: explainNoAdapter(facts) };
  // several GPUs on the node: this rank's (rank on node mod GPUs), through the device-tag layer
  const own = opts.flags === undefined ? rankAdapterFlag(flags) : null;
  if (own !== null) {
    const why = await probeDeviceTags(binding, flags, facts);
    if (why !== null) return { ok: false, reason: why };
    flags.push(own);
  }
  const gpu = binding.create(flags);
  gpusKept.push(gpu);
  const opened = await openDevice(gpu, facts, flags);
  if (!opened.ok) return opened;
  installGlobals(binding.globals, gpu);
  await registerTfjsBackend(opened.device, opened.info);
  const matmul = opts.matmul ?? (process.env["LASP_WEBGPU_MATMUL"] === "tfjs" ? "tfjs" : "tiled");
  if (matmul === "tiled") (await import("./wgsl/matmul-tiled.ts")).installTiledMatmul();
  const { runScanBlocks } = await import("./wgsl/scan.ts");
  const { runTileAttend } = await import("./wgsl/tile.ts");
  const { runSaForward, runSaBackward } = await import("./wgsl/softmax.ts");
  const fused = opts.fused ?? process.env["LASP_WEBGPU_FUSED"] !== "0";
  setGpuKernels({
    backend: "webgpu",
    fused,
    scanBlocks: runScanBlocks,
    tileAttend: runTileAttend,
    saForward: runSaForward,
    saBackward: runSaBackward,
  });
  started = { info: opened.info, device: opened.device };
  return opened;
}

async function registerTfjsBackend(device: GPUDevice, info: WebGPUInfo): Promise<void> {
  const { WebGPUBackend } = await import("@tensorflow/tfjs-backend-webgpu");
  // The package registers its own factory (which would open a second device): replace it.
  if (tf.findBackendFactory("webgpu") !== null) tf.removeBackend("webgpu");
  const adapterInfo = { vendor: info.vendor, architecture: info.architecture } as unknown as GPUAdapterInfo;
  tf.registerBackend("webgpu", () => new WebGPUBackend(device, adapterInfo), 3);
  if (!(await tf.setBackend("webgpu"))) throw new Error("webgpu: tfjs failed to initialise the webgpu backend");
  // Send every op to the GPU: small ops otherwise run on the CPU and force read-backs.
  tf.env().set("WEBGPU_CPU_FORWARD", false);
}

/**
 * On the main thread, before worker ranks start: where LASP_WEBGPU_ADAPTER or LASP_WEBGPU_FLAGS name an
 * adapter, checks that one matches. Dawn throws, listing the adapters, when none does; in a worker thread
 * that throw aborts the whole process instead. Returns the reason, or null (also where nothing is named or
 * Dawn is not installed: the ranks then fail on their own, with a reason).
 */
export async function checkNamedAdapter(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const flags = defaultFlags(env);
  const named = flags.find((f) => f.startsWith("adapter="));
  if (named === undefined) return null;
  let binding: Binding;
  try {
    binding = await loadDawn();
  } catch {
    return null;
  }
  const gpu = binding.create(flags);
  gpusKept.push(gpu);
  try {
    await gpu.requestAdapter({ powerPreference: "high-performance" });
    return null;
  } catch (e) {
    return `${named.slice("adapter=".length)} ${NAMED_NOT_FOUND}: ${oneLine(e)}`;
  }
}

const mainHolds = new Map<string, Promise<string>>();
const adaptersKept: GPUAdapter[] = [];

/**
 * On the main thread, before worker ranks start: loads Dawn here too and opens an adapter that lives until the
 * process ends, so that Dawn's library and the NVIDIA Vulkan driver stay loaded while the ranks' worker threads
 * start and end. Without it, 4 worker ranks ending one after another on the H100 crashed the process
 * (SIGSEGV after the results) in 2 of 3 runs, and in every earlier full run; loading the binding alone, 1 of 3;
 * with the adapter held, 0 of 3, then 0 of 5 more (bench/gpu/RESULTS.md, 2026-11-27). LASP_DAWN_MAIN: `adapter` (default),
 * `load` (the binding only), `0` (nothing). Returns what it did.
 */
export function holdDawnOnMainThread(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const mode = env["LASP_DAWN_MAIN"] ?? "adapter";
  if (mode !== "adapter" && mode !== "load") return Promise.resolve("nothing");
  const held = mainHolds.get(mode);
  if (held !== undefined) return held;
  const hold = (async () => {
    let binding: Binding;
    try {
      binding = await loadDawn();
    } catch {
      return "no binding";
    }
    if (mode === "load") return "binding loaded";
    const gpu = binding.create(defaultFlags(env).filter((f) => !f.startsWith("adapter=")));
    gpusKept.push(gpu);
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" }).catch(() => null);
    if (adapter !== null) adaptersKept.push(adapter);
    return adapter === null ? "binding loaded, no adapter" : `adapter ${adapter.info.device} held`;
  })();
  mainHolds.set(mode, hold);
  return hold;
}

/** Whether `--backend auto` should try WebGPU: LASP_WEBGPU=1/0 forces it; else a loader and a GPU node must exist. */
export function autoShouldTryWebGPU(env: NodeJS.ProcessEnv = process.env, facts?: GpuFacts): boolean {
  const force = env["LASP_WEBGPU"];
  if (force === "0") return false;
  if (force === "1") return true;
  if (dawnDir() === null) return false;
  return gpuLikely(facts ?? gatherGpuFacts(dawnDir(), env));
}

/** GPU errors (validation, out of memory) reported on this thread's device since it started. */
export function webgpuErrorCount(): number {
  return gpuErrors;
}

/** The device and adapter description of this thread, once started. */
export function webgpuInfo(): WebGPUInfo | null {
  return started?.info ?? null;
}

/**
 * Destroys this thread's device so Node can exit (a live device keeps the event loop alive), after the
 * queue has drained (bounded: a hung GPU does not hang the exit). A worker whose Dawn device was still
 * busy when launchRanks terminated it is how the first H100 runs ended in a segfault.
 */
export async function stopWebGPU(drainMs = 5_000): Promise<void> {
  if (started === null) return;
  const { device } = started;
  started = null;
  setGpuKernels(null);
  if (tf.findBackendFactory("webgpu") !== null) tf.removeBackend("webgpu");
  const bound = new Promise<void>((r) => setTimeout(r, drainMs).unref());
  await Promise.race([device.queue.onSubmittedWorkDone().catch(() => undefined), bound]);
  device.destroy();
}
