// The device-tag Vulkan layer (native/vulkan/device_tag.c) on the lent GPU's driver, main thread only, no
// lasp code: numbers the adapters (LASP_VK_TAG_DEBUG prints the PCI order), claims two GPUs so a single card
// answers to "[lasp-gpu 0] [lasp-gpu 1]", opens a device through each number and runs one dispatch.
// run.sh (RUN_MODE=next) calls it with the layer from carry/vulkan: node vk-tag-probe.mjs LAYER_DIR
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const dir = process.argv[2];
Object.assign(process.env, {
  VK_ADD_LAYER_PATH: dir,
  VK_INSTANCE_LAYERS: "VK_LAYER_LASP_device_tag",
  LASP_VK_DEVICE_TAGS: "2",
  LASP_VK_TAG_DEBUG: "1",
});
const { create, globals } = require("webgpu");
Object.assign(globalThis, globals);
let failed = 0;
const keep = []; // a GPU object collected while its device lives crashes Dawn
for (const k of [0, 1]) {
  const t0 = performance.now();
  try {
    const gpu = create(["backend=vulkan", `adapter=[lasp-gpu ${k}]`]);
    keep.push(gpu);
    const adapter = await gpu.requestAdapter();
    const device = await adapter.requestDevice();
    const module = device.createShaderModule({ code: "@group(0) @binding(0) var<storage, read_write> x: array<u32>; @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) i: vec3u) { x[i.x] = i.x * 3u; }" });
    const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
    const buf = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    enc.copyBufferToBuffer(buf, 0, read, 0, 256);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const got = new Uint32Array(read.getMappedRange().slice(0));
    const ok = got.every((v, i) => v === i * 3);
    if (!ok) failed++;
    console.log(`vk-tag: [lasp-gpu ${k}] -> ${adapter.info.device} (${adapter.info.description}); dispatch ${ok ? "ok" : "WRONG"}; ${(performance.now() - t0).toFixed(0)} ms`);
    device.destroy();
  } catch (e) {
    failed++;
    console.log(`vk-tag: [lasp-gpu ${k}] FAILED: ${e.message}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
