// startWebGPU after stopWebGPU in the same thread, with garbage collections in between: Dawn aborts the
// process when a GPU object is collected while its device lives, and the second start used to leave its
// GPU object unreferenced (navigator.gpu already held the first). Runs on lavapipe, in a child process.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startWebGPU, stopWebGPU } from "../../runtime/backend/webgpu.ts";

process.env["XDG_RUNTIME_DIR"] ??= "/tmp";
process.env["LASP_WEBGPU_SOFTWARE"] = "1";
const probe = await startWebGPU();
await stopWebGPU();
if (!probe.ok && process.env["LASP_REQUIRE_WEBGPU_SOFTWARE"] === "1") throw new Error(`webgpu software device required: ${probe.reason}`);

describe.skipIf(!probe.ok)("webgpu restart", () => {
  it("three start / compute / stop rounds in one thread, collecting garbage throughout, all compute right", async () => {
    const script = fileURLToPath(new URL("./webgpu-restart-child.ts", import.meta.url));
    const r = await new Promise<{ code: number | string | null; out: string; err: string }>((resolve) =>
      execFile(process.execPath, ["--expose-gc", "--import", "tsx", script], { timeout: 100_000 }, (e, out, err) =>
        resolve({ code: e === null ? 0 : (e.code ?? e.signal ?? null), out, err }),
      ),
    );
    expect(r.code, r.err.split("\n").filter((l) => !l.startsWith("Warning")).join("\n")).toBe(0);
    // [16,16] of 0.5 squared: every entry 16 * 0.25 = 4, sum 1024
    expect(r.out.trim().split("\n")).toEqual(["round 0: 1024", "round 1: 1024", "round 2: 1024"]);
  });
});
