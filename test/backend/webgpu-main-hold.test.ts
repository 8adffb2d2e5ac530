// The main thread holds a Dawn adapter while worker ranks start and end (webgpu.ts: holdDawnOnMainThread):
// on the H100, 4 worker ranks ending without it crashed the process after the results. The crash itself
// needs NVIDIA's driver; here (lavapipe) the hold, its switch, and a clean end of 2 webgpu worker ranks.
import { describe, expect, it } from "vitest";
import { launchRanks } from "../../runtime/comm/threads/launch.ts";
import { holdDawnOnMainThread, startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";
import { spreadRanksOverGpus } from "../../runtime/backend/vk-device-tag.ts";

process.env["XDG_RUNTIME_DIR"] ??= "/tmp";
process.env["LASP_WEBGPU_SOFTWARE"] = "1";
const probe = await startWebGPU();
await stopWebGPU();
if (!probe.ok && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error(`webgpu software device required: ${probe.reason}`);

describe("holdDawnOnMainThread", () => {
  it("does nothing with LASP_DAWN_MAIN=0 or an unknown value", async () => {
    expect(await holdDawnOnMainThread({ LASP_DAWN_MAIN: "0" })).toBe("nothing");
    expect(await holdDawnOnMainThread({ LASP_DAWN_MAIN: "off" })).toBe("nothing");
  });

  it.skipIf(!probe.ok)("holds an adapter by default, once per process", async () => {
    const env = { LASP_WEBGPU_SOFTWARE: "1" };
    const first = holdDawnOnMainThread(env);
    expect(holdDawnOnMainThread(env)).toBe(first);
    expect(await first).toMatch(/^adapter .+ held$/);
    expect(await holdDawnOnMainThread({ LASP_DAWN_MAIN: "load" })).toBe("binding loaded");
  });

  it.skipIf(!probe.ok)("2 webgpu worker ranks after spreadRanksOverGpus compute and end on their own", async () => {
    await spreadRanksOverGpus(2, "webgpu", () => undefined);
    const codes: number[] = [];
    const sums = await launchRanks<number>({
      sp: 2,
      dp: 1,
      entry: new URL("./webgpu-rank-sum.ts", import.meta.url),
      args: null,
      onExit: (_rank, code) => codes.push(code),
    });
    // rank r sums [64] of (r + 1): 64 * (r + 1)
    expect(sums).toEqual([64, 128]);
    await new Promise((r) => setTimeout(r, 200));
    expect(codes).toEqual([0, 0]);
  }, 120_000);
});
