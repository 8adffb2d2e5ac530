// WebGPU ranks under mpirun on a node with two (software) Vulkan devices: each process opens the device
// of its local rank through the device-tag layer (runtime/backend/vk-device-tag.ts), as worker-thread
// ranks do (test/backend/vk-device-tag.test.ts). Needs Mesa's lavapipe, the webgpu package and the
// layer (npm run build:vk); CI has all three (LASP_REQUIRE_WEBGPU_SOFTWARE=1 turns a skip into a failure).
import { describe, expect, it } from "vitest";
import { deviceTagLayerDir } from "../../runtime/backend/vk-device-tag.ts";
import { dawnInstalled, lavapipeIcd, twoSoftwareDevices } from "../helpers/vulkan.ts";
import { mpirun } from "./mpirun.ts";

const lvp = lavapipeIcd();
const dawn = await dawnInstalled();
const ready = lvp !== null && dawn && deviceTagLayerDir() !== null;
if (!ready && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error("mpi webgpu: lavapipe, the webgpu package or the layer is missing");

describe.skipIf(!ready)("webgpu ranks under mpirun", () => {
  it("2 processes on 2 Vulkan devices: local rank k opens device k and computes there", async () => {
    const run = await mpirun(2, "test/mpi/scripts/webgpu-gpu.ts", ["2"], {
      killAfterMs: 90_000,
      env: {
        XDG_RUNTIME_DIR: process.env["XDG_RUNTIME_DIR"] ?? "/tmp",
        VK_DRIVER_FILES: twoSoftwareDevices(lvp!),
        LASP_WEBGPU_SOFTWARE: "1",
        LASP_WEBGPU_GPUS: "2",
        LASP_VK_TAG_DEBUG: "1",
      },
    });
    expect(run.code, run.stderr).toBe(0);
    const posts = run.json
      .map((j) => j as { rank: number; post: { gpu: number; flags: string[]; product: number } })
      .sort((a, b) => a.rank - b.rank);
    expect(posts.map((p) => p.post.gpu)).toEqual([0, 1]);
    expect(posts.map((p) => p.post.product)).toEqual([6, 10]);
    expect(posts[1]!.post.flags).toContain("adapter=[lasp-gpu 1]");
    const opened = [...run.stderr.matchAll(/lasp-gpu: device opened on lasp-gpu (\d+)/g)].map((m) => Number(m[1])).sort();
    expect(opened).toEqual([0, 1]);
  });
});
