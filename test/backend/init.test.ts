// initBackend without a GPU: wasm and cpu start, tensorflow and webgpu fail at once with the reason,
// auto falls back to wasm quietly.
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { BackendUnavailableError, initBackend } from "../../runtime/backend/index.ts";
import { autoShouldTryWebGPU, startWebGPU } from "../../runtime/backend/webgpu.ts";
import { gatherGpuFacts } from "../../runtime/backend/webgpu-diagnose.ts";

async function product(): Promise<number[]> {
  const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
  return Array.from(await y.data());
}

const facts = gatherGpuFacts(null);
const noGpuHere = facts.vulkanLoader === null || facts.gpuNodes.length === 0;

describe("initBackend", () => {
  it("starts wasm and computes with it", async () => {
    expect(await initBackend("wasm")).toBe("wasm");
    expect(await product()).toEqual([19, 22, 43, 50]);
  });

  it("starts cpu and computes with it", async () => {
    expect(await initBackend("cpu")).toBe("cpu");
    expect(await product()).toEqual([19, 22, 43, 50]);
  });

  it("refuses tensorflow with an install hint when tfjs-node is absent", async () => {
    let installed = true;
    try {
      await import("@tensorflow/tfjs-node" + "");
    } catch {
      installed = false;
    }
    if (installed) return expect(await initBackend("tensorflow")).toBe("tensorflow");
    const err = await initBackend("tensorflow").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/^--backend tensorflow: @tensorflow\/tfjs-node-gpu .* is not installed/);
    expect((err as Error).message).toContain("--backend wasm");
  });

  it("refuses webgpu where there is no GPU, saying why and what to do (starts it where there is one)", async () => {
    if (!noGpuHere) return expect(await initBackend("webgpu")).toBe("webgpu");
    const err = await initBackend("webgpu").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    const m = (err as Error).message;
    expect(m).toMatch(/^--backend webgpu: (no Vulkan driver|no GPU adapter found)/);
    expect(m).toContain("--backend wasm");
    expect(tf.getBackend()).not.toBe("webgpu");
  });

  it("auto does not try webgpu without a GPU and falls back to wasm", async () => {
    if (!noGpuHere) return expect(autoShouldTryWebGPU({})).toBe(true);
    expect(autoShouldTryWebGPU({})).toBe(false);
    expect(await initBackend("auto")).toBe("wasm");
    expect(await product()).toEqual([19, 22, 43, 50]);
  });

  it("auto honours LASP_WEBGPU=0 and still falls back when LASP_WEBGPU=1 finds no adapter", async () => {
    expect(autoShouldTryWebGPU({ LASP_WEBGPU: "0" })).toBe(false);
    expect(autoShouldTryWebGPU({ LASP_WEBGPU: "1" })).toBe(true);
    if (!noGpuHere) return;
    const saved = process.env["LASP_WEBGPU"];
    process.env["LASP_WEBGPU"] = "1";
    try {
      expect(await initBackend("auto")).toBe("wasm");
    } finally {
      if (saved === undefined) delete process.env["LASP_WEBGPU"];
      else process.env["LASP_WEBGPU"] = saved;
    }
  });
});

describe("startWebGPU", () => {
  it("explains a missing `webgpu` package", async () => {
    const r = await startWebGPU({
      loadBinding: () => Promise.reject(new Error("Cannot find package 'webgpu' imported from x")),
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain("the optional package `webgpu`");
    expect(r.reason).toContain("Cannot find package 'webgpu'");
    expect(r.reason).toContain("npm install webgpu");
  });

  it("does not call Dawn when the Vulkan loader is missing", async () => {
    let created = false;
    const r = await startWebGPU({
      loadBinding: () =>
        Promise.resolve({
          create: () => {
            created = true;
            throw new Error("must not be called");
          },
          globals: {},
        }),
      facts: () => ({ ...facts, vulkanLoader: null, loaderDirs: ["/nowhere"] }),
    });
    expect(r.ok).toBe(false);
    expect(created).toBe(false);
    if (!r.ok) expect(r.reason).toContain("/nowhere");
  });
});
