// Why WebGPU cannot start on this machine, found without touching the GPU: the Vulkan loader, GPU
// device nodes and Vulkan driver manifests (ICDs). Pure functions over gathered facts, so the
// messages are tested here where there is no GPU; gatherGpuFacts() reads the file system.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface GpuFacts {
  /** Path of the libvulkan.so.1 that Dawn would load, or null when none is found. */
  vulkanLoader: string | null;
  /** Folders searched for the loader (for the message). */
  loaderDirs: string[];
  /** /dev/nvidia* and /dev/dri/* nodes present. */
  gpuNodes: string[];
  /** Vulkan driver manifests (ICD JSON files) the loader would read. */
  icdFiles: string[];
  /** NVIDIA ICD manifests present outside the loader's default folders (a fix to suggest). */
  nvidiaIcdHints: string[];
}

const SYSTEM_LIB_DIRS = [
  "/lib/x86_64-linux-gnu",
  "/usr/lib/x86_64-linux-gnu",
  "/lib/aarch64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/lib64",
  "/usr/lib64",
  "/lib",
  "/usr/lib",
  "/usr/local/lib",
];

const NVIDIA_ICD_CANDIDATES = [
  "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json",
  "/usr/share/vulkan/icd.d/nvidia_icd.json",
  "/etc/vulkan/icd.d/nvidia_icd.json",
];

function splitPath(v: string | undefined): string[] {
  return (v ?? "").split(":").filter((s) => s.length > 0);
}

function ldConfDirs(): string[] {
  const out: string[] = [];
  const confDir = "/etc/ld.so.conf.d";
  try {
    for (const f of readdirSync(confDir)) {
      if (!f.endsWith(".conf")) continue;
      for (const line of readFileSync(join(confDir, f), "utf8").split("\n")) {
        const t = line.trim();
        if (t.startsWith("/")) out.push(t);
      }
    }
  } catch {
    // no ld.so.conf.d: only the built-in folders are searched
  }
  return out;
}

function listDir(dir: string, keep: (name: string) => boolean): string[] {
  try {
    return readdirSync(dir)
      .filter(keep)
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** The folders the Vulkan loader reads manifests from, in its order (Vulkan-Loader's LoaderDriverInterface.md). */
export function icdSearchDirs(env: NodeJS.ProcessEnv): string[] {
  const config = splitPath(env["XDG_CONFIG_DIRS"] ?? "/etc/xdg");
  const data = splitPath(env["XDG_DATA_DIRS"] ?? "/usr/local/share:/usr/share");
  const home = env["HOME"];
  return [
    ...config.map((d) => join(d, "vulkan/icd.d")),
    "/etc/vulkan/icd.d",
    ...data.map((d) => join(d, "vulkan/icd.d")),
    ...(home ? [join(home, ".local/share/vulkan/icd.d")] : []),
  ];
}

/** Reads the facts of this machine. `dawnDir` is the folder of dawn.node (searched first by Dawn). */
export function gatherGpuFacts(dawnDir: string | null, env: NodeJS.ProcessEnv = process.env): GpuFacts {
  const loaderDirs = [
    ...(dawnDir ? [dawnDir] : []),
    dirname(process.execPath),
    ...splitPath(env["LD_LIBRARY_PATH"]),
    ...ldConfDirs(),
    ...SYSTEM_LIB_DIRS,
  ];
  const vulkanLoader = loaderDirs.map((d) => join(d, "libvulkan.so.1")).find((p) => existsSync(p)) ?? null;
  const gpuNodes = [...listDir("/dev", (n) => n.startsWith("nvidia")), ...listDir("/dev/dri", () => true)];
  const explicit = [...splitPath(env["VK_DRIVER_FILES"]), ...splitPath(env["VK_ICD_FILENAMES"])];
  const added = splitPath(env["VK_ADD_DRIVER_FILES"]);
  const icdFiles = (
    explicit.length > 0
      ? [...explicit, ...added]
      : [...added, ...icdSearchDirs(env).flatMap((d) => listDir(d, (n) => n.endsWith(".json")))]
  ).filter((p) => existsSync(p));
  const nvidiaIcdHints = NVIDIA_ICD_CANDIDATES.filter((p) => existsSync(p) && !icdFiles.includes(p));
  return { vulkanLoader, loaderDirs, gpuNodes, icdFiles, nvidiaIcdHints };
}

/** Whether probing for an adapter is worth it (cheap, quiet check used by `--backend auto`). */
export function gpuLikely(f: GpuFacts): boolean {
  return f.vulkanLoader !== null && f.gpuNodes.length > 0;
}

/** The reason, and what to do, when Dawn returned no adapter. */
export function explainNoAdapter(f: GpuFacts): string {
  const fallback = "; or run on the CPU with --backend wasm";
  if (f.vulkanLoader === null)
    return (
      "no Vulkan driver: the Vulkan loader libvulkan.so.1 was not found (searched " +
      f.loaderDirs.slice(0, 4).join(", ") +
      " and the system library folders). Install it (`apt-get install libvulkan1`), or put libvulkan.so.1 " +
      "beside dawn.node or in LD_LIBRARY_PATH" +
      fallback
    );
  if (f.gpuNodes.length === 0)
    return (
      "no GPU adapter found: no GPU device node (/dev/nvidia*, /dev/dri/*) exists, so this machine (or container) " +
      "sees no GPU. Run on a machine with a GPU and its driver (in a container: pass the GPU through)" +
      fallback
    );
  if (f.icdFiles.length === 0) {
    const hint =
      f.nvidiaIcdHints.length > 0
        ? `set VK_DRIVER_FILES=${f.nvidiaIcdHints[0]}`
        : "install the GPU's Vulkan driver, or set VK_DRIVER_FILES to its ICD JSON " +
          "(NVIDIA: nvidia_icd.json pointing at libGLX_nvidia.so.0 or libEGL_nvidia.so.0)";
    return `no GPU adapter found: the Vulkan loader (${f.vulkanLoader}) found no driver manifest (ICD JSON); ${hint}${fallback}`;
  }
  return (
    `no GPU adapter found: Dawn rejected every Vulkan device although the loader (${f.vulkanLoader}), ` +
    `GPU nodes (${f.gpuNodes.slice(0, 3).join(", ")}) and driver manifests (${f.icdFiles.join(", ")}) exist. ` +
    "Run with LASP_WEBGPU_FLAGS=verbose=1 (and VK_LOADER_DEBUG=error,driver) to see why" +
    fallback
  );
}
