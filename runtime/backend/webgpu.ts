// WebGPU tensor backend in Node: Dawn's `webgpu` binding (Vulkan) drives tfjs-backend-webgpu. One
// adapter and device per thread (each worker rank calls startWebGPU itself); fails fast, with the
// reason, where there is no GPU, and never prints Dawn's warnings when the loader is missing.
import * as tf from "@tensorflow/tfjs-core";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setGpuKernels } from "../kernels/gpu-hooks.ts";
import { explainNoAdapter, gatherGpuFacts, gpuLikely, type GpuFacts } from "./webgpu-diagnose.ts";

export interface WebGPUInfo {
  vendor: string;
  architecture: string;
  device: string;
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
 * which one to use; Dawn lists the adapters it has when none matches). Identical cards share one name,
 * so this cannot spread ranks over several of them.
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
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
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

async function openDevice(gpu: GPU, facts: GpuFacts, flags: string[]): Promise<WebGPUStart> {
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
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
  const gpu = binding.create(flags);
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
