// The reasons WebGPU gives for not starting, built from facts about loader, GPU nodes and ICDs.
import { describe, expect, it } from "vitest";
import { explainNoAdapter, gpuLikely, icdSearchDirs, type GpuFacts } from "../../runtime/backend/webgpu-diagnose.ts";
import { defaultFlags } from "../../runtime/backend/webgpu.ts";

const base: GpuFacts = {
  vulkanLoader: "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
  loaderDirs: ["/opt/dawn", "/usr/bin"],
  gpuNodes: ["/dev/nvidia0", "/dev/nvidiactl"],
  icdFiles: ["/usr/share/vulkan/icd.d/nvidia_icd.json"],
  nvidiaIcdHints: [],
};

describe("explainNoAdapter", () => {
  it("names the missing Vulkan loader and how to install it", () => {
    const m = explainNoAdapter({ ...base, vulkanLoader: null });
    expect(m).toMatch(/^no Vulkan driver: the Vulkan loader libvulkan\.so\.1 was not found/);
    expect(m).toContain("/opt/dawn");
    expect(m).toContain("apt-get install libvulkan1");
    expect(m).toContain("--backend wasm");
  });

  it("says the machine sees no GPU when no device node exists", () => {
    const m = explainNoAdapter({ ...base, gpuNodes: [] });
    expect(m).toMatch(/^no GPU adapter found: no GPU device node/);
    expect(m).toContain("--backend wasm");
  });

  it("points at an NVIDIA ICD outside the default folders when the loader found none", () => {
    const hint = "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json";
    const m = explainNoAdapter({ ...base, icdFiles: [], nvidiaIcdHints: [hint] });
    expect(m).toContain(`set VK_DRIVER_FILES=${hint}`);
  });

  it("explains how to write an ICD when there is none to point at", () => {
    const m = explainNoAdapter({ ...base, icdFiles: [] });
    expect(m).toContain("found no driver manifest");
    expect(m).toContain("libGLX_nvidia.so.0");
  });

  it("asks for Dawn's verbose output when everything seems present", () => {
    const m = explainNoAdapter(base);
    expect(m).toContain("Dawn rejected every Vulkan device");
    expect(m).toContain("LASP_WEBGPU_FLAGS=verbose=1");
    expect(m).toContain("/dev/nvidia0");
  });
});

describe("gpuLikely", () => {
  it("needs both a loader and a GPU node", () => {
    expect(gpuLikely(base)).toBe(true);
    expect(gpuLikely({ ...base, vulkanLoader: null })).toBe(false);
    expect(gpuLikely({ ...base, gpuNodes: [] })).toBe(false);
  });
});

describe("icdSearchDirs", () => {
  it("follows XDG_CONFIG_DIRS, /etc, XDG_DATA_DIRS and HOME in the loader's order", () => {
    const dirs = icdSearchDirs({ XDG_CONFIG_DIRS: "/cfg", XDG_DATA_DIRS: "/a:/b", HOME: "/home/u" });
    expect(dirs).toEqual([
      "/cfg/vulkan/icd.d",
      "/etc/vulkan/icd.d",
      "/a/vulkan/icd.d",
      "/b/vulkan/icd.d",
      "/home/u/.local/share/vulkan/icd.d",
    ]);
  });

  it("defaults to /etc/xdg and /usr/local/share:/usr/share", () => {
    expect(icdSearchDirs({})).toEqual([
      "/etc/xdg/vulkan/icd.d",
      "/etc/vulkan/icd.d",
      "/usr/local/share/vulkan/icd.d",
      "/usr/share/vulkan/icd.d",
    ]);
  });
});

describe("defaultFlags", () => {
  it("asks Dawn for Vulkan and appends LASP_WEBGPU_FLAGS", () => {
    expect(defaultFlags({})).toEqual(["backend=vulkan"]);
    expect(defaultFlags({ LASP_WEBGPU_FLAGS: " verbose=1  enable-dawn-features=disable_robustness " })).toEqual([
      "backend=vulkan",
      "verbose=1",
      "enable-dawn-features=disable_robustness",
    ]);
  });

  it("passes LASP_WEBGPU_ADAPTER as Dawn's adapter name filter", () => {
    expect(defaultFlags({ LASP_WEBGPU_ADAPTER: " H100 " })).toEqual(["backend=vulkan", "adapter=H100"]);
    expect(defaultFlags({ LASP_WEBGPU_ADAPTER: "H100", LASP_WEBGPU_FLAGS: "adapter=A100" })).toEqual(["backend=vulkan", "adapter=A100"]);
  });

  it("lets LASP_WEBGPU_FLAGS choose another Dawn backend", () => {
    expect(defaultFlags({ LASP_WEBGPU_FLAGS: "backend=null" })).toEqual(["backend=null"]);
  });
});
