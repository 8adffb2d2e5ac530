// One GPU per rank for WebGPU (runtime/backend/vk-device-tag.ts, native/vulkan/device_tag.c): the GPU count,
// the environment the loader needs, each rank's adapter flag, and, on a machine with Mesa's lavapipe and
// the built layer, ranks spread over two software Vulkan devices for real (the same driver listed twice).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  DEVICE_TAG_LAYER,
  deviceTagLayerDir,
  deviceTagsOn,
  nodeGpuCount,
  prepareRankGpus,
  rankAdapterFlag,
  splitDeviceTag,
  spreadRanksOverGpus,
} from "../../runtime/backend/vk-device-tag.ts";
import { dawnInstalled, lavapipeIcd, twoSoftwareDevices } from "../helpers/vulkan.ts";

function fakeDev(nvidia: number, render: number): string {
  const dev = mkdtempSync(join(tmpdir(), "lasp-dev-"));
  for (let i = 0; i < nvidia; i++) writeFileSync(join(dev, `nvidia${i}`), "");
  writeFileSync(join(dev, "nvidiactl"), "");
  writeFileSync(join(dev, "nvidia-uvm"), "");
  mkdirSync(join(dev, "dri"));
  for (let i = 0; i < render; i++) writeFileSync(join(dev, "dri", `renderD${128 + i}`), "");
  writeFileSync(join(dev, "dri", "card0"), "");
  return dev;
}

function fakeLayer(): string {
  const dir = mkdtempSync(join(tmpdir(), "lasp-layer-"));
  writeFileSync(join(dir, "libVkLayer_LASP_device_tag.so"), "");
  writeFileSync(join(dir, "VkLayer_LASP_device_tag.json"), "{}");
  return dir;
}

describe("nodeGpuCount", () => {
  it("counts /dev/nvidiaN (not nvidiactl or nvidia-uvm), else render nodes; LASP_WEBGPU_GPUS overrides", () => {
    expect(nodeGpuCount({}, fakeDev(4, 5))).toBe(4);
    expect(nodeGpuCount({}, fakeDev(0, 3))).toBe(3);
    expect(nodeGpuCount({}, fakeDev(0, 0))).toBe(0);
    expect(nodeGpuCount({ LASP_WEBGPU_GPUS: "2" }, fakeDev(8, 0))).toBe(2);
    expect(() => nodeGpuCount({ LASP_WEBGPU_GPUS: "two" })).toThrow(/LASP_WEBGPU_GPUS=two: expected a whole number >= 1/);
    expect(() => nodeGpuCount({ LASP_WEBGPU_GPUS: "0" })).toThrow(/LASP_WEBGPU_GPUS=0/);
  });
});

describe("prepareRankGpus", () => {
  it("switches the layer on through the loader's variables, keeping what was there, once", () => {
    const layer = fakeLayer();
    const env: NodeJS.ProcessEnv = { LASP_VK_LAYER_DIR: layer, VK_ADD_LAYER_PATH: "/opt/layers", VK_INSTANCE_LAYERS: "VK_LAYER_KHRONOS_validation" };
    const t = prepareRankGpus(4, env, fakeDev(2, 0));
    expect(t).toEqual({ enabled: true, gpus: 2, layerDir: layer });
    expect(env["VK_ADD_LAYER_PATH"]).toBe(`${layer}:/opt/layers`);
    expect(env["VK_INSTANCE_LAYERS"]).toBe(`VK_LAYER_KHRONOS_validation:${DEVICE_TAG_LAYER}`);
    expect(deviceTagsOn(env)).toBe(2);
    // a second launch in the same process changes nothing
    expect(prepareRankGpus(4, env, fakeDev(2, 0)).enabled).toBe(true);
    expect(env["VK_ADD_LAYER_PATH"]).toBe(`${layer}:/opt/layers`);
    expect(env["VK_INSTANCE_LAYERS"]).toBe(`VK_LAYER_KHRONOS_validation:${DEVICE_TAG_LAYER}`);
  });

  it("stays off with one rank, one GPU, the user's own adapter choice or LASP_GPU_BIND=0, and says why", () => {
    const layer = fakeLayer();
    const two = fakeDev(2, 0);
    const off = (ranks: number, extra: NodeJS.ProcessEnv, dev = two): string => {
      const env: NodeJS.ProcessEnv = { LASP_VK_LAYER_DIR: layer, ...extra };
      const t = prepareRankGpus(ranks, env, dev);
      expect(t.enabled).toBe(false);
      expect(env["VK_INSTANCE_LAYERS"]).toBeUndefined();
      expect(deviceTagsOn(env)).toBeNull();
      return t.enabled ? "" : t.reason;
    };
    expect(off(1, {})).toMatch(/1 rank\(s\) on 2 GPU\(s\): nothing to spread/);
    expect(off(4, {}, fakeDev(1, 0))).toMatch(/4 rank\(s\) on 1 GPU/);
    expect(off(4, { LASP_WEBGPU_ADAPTER: "A100" })).toMatch(/LASP_WEBGPU_ADAPTER/);
    expect(off(4, { LASP_WEBGPU_FLAGS: "backend=vulkan adapter=A100" })).toMatch(/adapter= in LASP_WEBGPU_FLAGS/);
    expect(off(4, { LASP_GPU_BIND: "0" })).toMatch(/LASP_GPU_BIND=0/);
    expect(off(4, { LASP_VK_LAYER_DIR: join(layer, "missing") })).toMatch(
      /device-tag Vulkan layer is not built \(apt-get install libvulkan-dev && npm run build:vk\): all ranks use the first of 2 GPUs/,
    );
  });

  it("spreadRanksOverGpus says how ranks map to GPUs, for --backend webgpu only", async () => {
    const said: string[] = [];
    const env = process.env;
    const saved = { ...env };
    try {
      env["LASP_WEBGPU_GPUS"] = "3";
      env["LASP_VK_LAYER_DIR"] = join(fakeLayer(), "missing");
      delete env["LASP_VK_DEVICE_TAGS"];
      await spreadRanksOverGpus(4, "wasm", (s) => said.push(s));
      expect(said).toEqual([]);
      await spreadRanksOverGpus(4, "webgpu", (s) => said.push(s));
      expect(said).toEqual([expect.stringMatching(/^lasp: 4 ranks, 3 GPUs: the device-tag Vulkan layer is not built/)]);
      env["LASP_VK_LAYER_DIR"] = fakeLayer();
      await spreadRanksOverGpus(4, "webgpu", (s) => said.push(s));
      expect(said[1]).toBe("lasp: 4 ranks over 3 GPUs: rank r opens GPU (r mod 3) in PCI order\n");
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete env[k];
      Object.assign(env, saved);
    }
  });
});

describe("rankAdapterFlag and splitDeviceTag", () => {
  it("rank on node mod GPUs, unless tags are off, the rank is unknown or an adapter is already chosen", () => {
    const env = { LASP_VK_DEVICE_TAGS: "4" };
    expect(rankAdapterFlag(["backend=vulkan"], env, 6)).toBe("adapter=[lasp-gpu 2]");
    expect(rankAdapterFlag(["backend=vulkan"], env, 3)).toBe("adapter=[lasp-gpu 3]");
    expect(rankAdapterFlag(["backend=vulkan", "adapter=A100"], env, 6)).toBeNull();
    expect(rankAdapterFlag(["backend=vulkan"], {}, 6)).toBeNull();
    expect(rankAdapterFlag(["backend=vulkan"], env, null)).toBeNull();
  });

  it("reads the GPU number from Dawn's slug and from the name as written, and gives the name back without it", () => {
    expect(splitDeviceTag("nvidia-h100-80gb-hbm3-lasp-gpu-13-")).toEqual({ name: "nvidia-h100-80gb-hbm3", gpu: 13 });
    expect(splitDeviceTag("NVIDIA H100 80GB HBM3 [lasp-gpu 1]")).toEqual({ name: "NVIDIA H100 80GB HBM3", gpu: 1 });
    expect(splitDeviceTag("nvidia-h100-80gb-hbm3")).toEqual({ name: "nvidia-h100-80gb-hbm3", gpu: null });
  });
});

// Real Vulkan: two lavapipe devices (its ICD manifest listed twice), the layer built by npm run build:vk.
const lvpIcd = lavapipeIcd();
const layerBuilt = deviceTagLayerDir() !== null;
const dawn = await dawnInstalled();
const ready = lvpIcd !== null && layerBuilt && dawn;
const missing = [lvpIcd === null ? "lavapipe" : "", layerBuilt ? "" : "the layer (npm run build:vk)", dawn ? "" : "the webgpu package"].filter((s) => s);
if (!ready && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error(`vk-device-tag: missing ${missing.join(", ")}`);

function child(ranks: number, gpus: number, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const script = fileURLToPath(new URL("./vk-tag/child.ts", import.meta.url));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_RUNTIME_DIR: process.env["XDG_RUNTIME_DIR"] ?? "/tmp",
    VK_DRIVER_FILES: twoSoftwareDevices(lvpIcd!),
    LASP_WEBGPU_SOFTWARE: "1",
    LASP_WEBGPU_GPUS: String(gpus),
    LASP_VK_TAG_DEBUG: "1",
  };
  for (const k of ["LASP_VK_DEVICE_TAGS", "VK_INSTANCE_LAYERS", "VK_ADD_LAYER_PATH", "LASP_WEBGPU_ADAPTER", "LASP_WEBGPU_FLAGS", "VK_ICD_FILENAMES"])
    delete env[k];
  Object.assign(env, extra);
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", script, String(ranks)], { env, timeout: 100_000 }, (e, out, err) =>
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : 1, out, err }),
    );
  });
}

describe.skipIf(!ready)(`ranks over two software Vulkan devices${ready ? "" : ` (skipped: missing ${missing.join(", ")})`}`, () => {
  it("3 worker ranks open devices 0, 1, 0, each computes on its own, and the layer saw those devices opened", async () => {
    const r = await child(3, 2);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out.trim().split("\n").pop()!) as { tags: { enabled: boolean; gpus: number }; results: { gpu: number; device: string; flags: string[]; product: number }[] };
    expect(got.tags).toMatchObject({ enabled: true, gpus: 2 });
    expect(got.results.map((x) => x.gpu)).toEqual([0, 1, 0]);
    expect(got.results.map((x) => x.product)).toEqual([6, 10, 14]);
    expect(got.results[1]!.flags).toContain("adapter=[lasp-gpu 1]");
    expect(got.results[0]!.device).toMatch(/llvmpipe/);
    expect(got.results[0]!.device).not.toMatch(/lasp-gpu/);
    // the layer's own account: Vulkan devices were created on physical devices 0 and 1 (0 twice)
    const opened = [...r.err.matchAll(/lasp-gpu: device opened on lasp-gpu (\d+)/g)].map((m) => Number(m[1])).sort();
    expect(opened).toEqual([0, 0, 1]);
  });

  it("more GPUs claimed than Vulkan shows: the numbers wrap (device 0 answers to 0 and 2), no rank is left without one", async () => {
    const r = await child(3, 3);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out.trim().split("\n").pop()!) as { results: { gpu: number; flags: string[]; product: number }[] };
    expect(got.results.map((x) => x.gpu)).toEqual([0, 1, 0]);
    expect(got.results[2]!.flags).toContain("adapter=[lasp-gpu 2]");
    expect(got.results.map((x) => x.product)).toEqual([6, 10, 14]);
  });

  it("an adapter name that matches nothing (LASP_WEBGPU_ADAPTER): an error before any worker starts, with the adapters there are", async () => {
    const r = await child(2, 2, { LASP_WEBGPU_ADAPTER: "no-such-gpu" });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/BackendUnavailableError: --backend webgpu: no-such-gpu \(LASP_WEBGPU_ADAPTER or adapter= in LASP_WEBGPU_FLAGS\) names no adapter of this machine: .*Available adapters: .*llvmpipe/);
    expect(r.err).not.toMatch(/FATAL ERROR/);
  });

  it("a layer the loader cannot load (it skips it): the rank fails at once with the reason and the way out, no crash", async () => {
    const broken = fakeLayer(); // an empty file where the library should be
    writeFileSync(
      join(broken, "VkLayer_LASP_device_tag.json"),
      JSON.stringify({ file_format_version: "1.1.0", layer: { name: DEVICE_TAG_LAYER, type: "GLOBAL", library_path: "./libVkLayer_LASP_device_tag.so", api_version: "1.3.0", implementation_version: "1", description: "broken" } }),
    );
    const r = await child(2, 2, { LASP_VK_LAYER_DIR: broken });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/child: rank \d/);
    expect(r.err).toMatch(
      /the device-tag Vulkan layer did not number the adapters \(llvmpipe[^)]*\): the Vulkan loader did not load VK_LAYER_LASP_device_tag .*LASP_GPU_BIND=0 runs without the layer/,
    );
    expect(r.err).not.toMatch(/FATAL ERROR/);
  });
});
