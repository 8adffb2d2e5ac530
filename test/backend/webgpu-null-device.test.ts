// Dawn's null device (no GPU, no Vulkan) compiles and validates every WGSL pipeline but computes
// nothing: it proves the setup path and that each tiled-matmul variant is valid WGSL for Dawn.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { startWebGPU, stopWebGPU, webgpuErrorCount, webgpuInfo } from "../../runtime/backend/webgpu.ts";
import { setMaxBatchPerDispatch, setTiledMatmulEnabled, tiledMatmulCalls } from "../../runtime/backend/wgsl/matmul-tiled.ts";

describe("webgpu on Dawn's null device", () => {
  afterAll(() => stopWebGPU());

  it("starts, registers the tfjs backend and compiles the tiled matmul in every variant", async () => {
    const r = await startWebGPU({ flags: ["backend=null"] });
    if (!r.ok) throw new Error(r.reason);
    expect(tf.getBackend()).toBe("webgpu");
    expect(webgpuInfo()?.flags).toEqual(["backend=null"]);
    expect(tf.env().getBool("WEBGPU_CPU_FORWARD")).toBe(false);
    const device = r.device;
    const cases: [number[], number[], boolean, boolean][] = [
      [[130, 70], [70, 257], false, false],
      [[3, 70, 130], [3, 70, 257], true, false],
      [[129, 333], [65, 333], false, true],
      [[2, 64, 300], [290, 64], true, true],
      [[1024, 256], [256, 1024], false, false],
    ];
    const before = tiledMatmulCalls();
    device.pushErrorScope("validation");
    for (const [as, bs, ta, tb] of cases) {
      const y = tf.matMul(tf.ones(as), tf.ones(bs), ta, tb);
      await y.data();
      y.dispose();
    }
    const err = await device.popErrorScope();
    expect(err?.message ?? null).toBeNull();
    expect(tiledMatmulCalls() - before).toBe(cases.length);
  });

  it("a batch of 70000 products (over WebGPU's 65535 workgroups per dimension) runs in chunks", async () => {
    const a = tf.ones([70000, 2, 3]);
    const b = tf.ones([70000, 3, 2]);
    // unchunked, tfjs refuses the dispatch (as on the H100 at 16 heads x 4096 blocks)
    const prev = setMaxBatchPerDispatch(1e9);
    try {
      expect(() => tf.matMul(a, b)).toThrow(/Dispatch size exceeds WebGPU limits in Y or Z dimension/);
    } finally {
      setMaxBatchPerDispatch(prev);
    }
    const y = tf.matMul(a, b);
    await y.data();
    expect(y.shape).toEqual([70000, 2, 2]);
    tf.dispose([a, b, y]);
  });

  it("falls back to tfjs's kernel when the tiled one is switched off", async () => {
    const before = tiledMatmulCalls();
    setTiledMatmulEnabled(false);
    try {
      const y = tf.matMul(tf.ones([256, 256]), tf.ones([256, 256]));
      await y.data();
      expect(y.shape).toEqual([256, 256]);
    } finally {
      setTiledMatmulEnabled(true);
    }
    expect(tiledMatmulCalls()).toBe(before);
  });
});

describe("GPU error counting", () => {
  it("counts an uncaptured device error (results of such a run are void)", async () => {
    const r = await startWebGPU({ flags: ["backend=null"] });
    if (!r.ok) throw new Error(r.reason);
    try {
      const before = webgpuErrorCount();
      // larger than any maxBufferSize: a validation error no scope catches
      r.device.createBuffer({ size: 2 ** 52, usage: 0x80 /* STORAGE */ });
      await r.device.queue.onSubmittedWorkDone();
      await new Promise((res) => setTimeout(res, 50));
      expect(webgpuErrorCount()).toBe(before + 1);
    } finally {
      await stopWebGPU();
    }
  });
});
