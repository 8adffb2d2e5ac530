// One GPU per process under a launcher (runtime/backend/gpu-binding.ts): the local rank as each launcher
// names it, CUDA_VISIBLE_DEVICES narrowed to that rank's GPU (of the list it held, or of the node's GPUs),
// ranks sharing GPUs when there are more of them, and no binding where it does not apply.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bindLocalGpu, countNvidiaGpus, launcherLocalRank } from "../../runtime/backend/gpu-binding.ts";

const four = (): number => 4;

describe("launcherLocalRank", () => {
  it("reads Open MPI, MPICH, Slurm, PMI and torchrun-style variables, Open MPI first", () => {
    expect(launcherLocalRank({ OMPI_COMM_WORLD_LOCAL_RANK: "3", OMPI_COMM_WORLD_LOCAL_SIZE: "8" })).toEqual({
      rank: 3,
      size: 8,
      source: "OMPI_COMM_WORLD_LOCAL_RANK",
    });
    expect(launcherLocalRank({ MPI_LOCALRANKID: "1", MPI_LOCALNRANKS: "2" })).toMatchObject({ rank: 1, size: 2 });
    expect(launcherLocalRank({ SLURM_LOCALID: "5" })).toEqual({ rank: 5, size: null, source: "SLURM_LOCALID" });
    expect(launcherLocalRank({ PMI_LOCAL_RANK: "0", PMI_LOCAL_SIZE: "4" })).toMatchObject({ rank: 0, size: 4 });
    expect(launcherLocalRank({ LOCAL_RANK: "2", LOCAL_WORLD_SIZE: "4" })).toMatchObject({ rank: 2, size: 4, source: "LOCAL_RANK" });
    expect(launcherLocalRank({ LOCAL_RANK: "2", OMPI_COMM_WORLD_LOCAL_RANK: "1" })!.source).toBe("OMPI_COMM_WORLD_LOCAL_RANK");
  });
  it("is null outside a launcher or for values that are not whole numbers", () => {
    expect(launcherLocalRank({})).toBeNull();
    expect(launcherLocalRank({ LOCAL_RANK: "x" })).toBeNull();
    expect(launcherLocalRank({ LOCAL_RANK: "-1" })).toBeNull();
  });
});

describe("bindLocalGpu", () => {
  it("gives local rank r GPU r of the node's GPUs and sets CUDA_VISIBLE_DEVICES", () => {
    const env: NodeJS.ProcessEnv = { OMPI_COMM_WORLD_LOCAL_RANK: "2", OMPI_COMM_WORLD_LOCAL_SIZE: "4" };
    const b = bindLocalGpu(env, four)!;
    expect(b).toMatchObject({ device: "2", visible: ["0", "1", "2", "3"], shared: false, changed: true });
    expect(env["CUDA_VISIBLE_DEVICES"]).toBe("2");
  });
  it("picks from the list CUDA_VISIBLE_DEVICES already holds (indices or UUIDs)", () => {
    const env: NodeJS.ProcessEnv = { SLURM_LOCALID: "1", CUDA_VISIBLE_DEVICES: "GPU-aa, GPU-bb" };
    expect(bindLocalGpu(env, () => 8)).toMatchObject({ device: "GPU-bb", visible: ["GPU-aa", "GPU-bb"], shared: false });
    expect(env["CUDA_VISIBLE_DEVICES"]).toBe("GPU-bb");
  });
  it("wraps round when the node runs more ranks than it has GPUs, and says they share", () => {
    const env: NodeJS.ProcessEnv = { LOCAL_RANK: "5", LOCAL_WORLD_SIZE: "8" };
    expect(bindLocalGpu(env, four)).toMatchObject({ device: "1", shared: true });
    // without a size, a local rank beyond the GPUs still tells
    expect(bindLocalGpu({ SLURM_LOCALID: "4" }, four)).toMatchObject({ device: "0", shared: true });
    expect(bindLocalGpu({ SLURM_LOCALID: "3" }, four)).toMatchObject({ device: "3", shared: false });
  });
  it("leaves a single device as the launcher set it", () => {
    const env: NodeJS.ProcessEnv = { OMPI_COMM_WORLD_LOCAL_RANK: "3", OMPI_COMM_WORLD_LOCAL_SIZE: "4", CUDA_VISIBLE_DEVICES: "7" };
    expect(bindLocalGpu(env, four)).toMatchObject({ device: "7", changed: false, shared: true });
    expect(env["CUDA_VISIBLE_DEVICES"]).toBe("7");
  });
  it("does nothing outside a launcher, without NVIDIA GPUs, or with LASP_GPU_BIND=0", () => {
    const outside: NodeJS.ProcessEnv = {};
    expect(bindLocalGpu(outside, four)).toBeNull();
    expect(outside["CUDA_VISIBLE_DEVICES"]).toBeUndefined();
    const noGpu: NodeJS.ProcessEnv = { LOCAL_RANK: "0" };
    expect(bindLocalGpu(noGpu, () => 0)).toBeNull();
    expect(noGpu["CUDA_VISIBLE_DEVICES"]).toBeUndefined();
    const off: NodeJS.ProcessEnv = { LOCAL_RANK: "1", LASP_GPU_BIND: "0" };
    expect(bindLocalGpu(off, four)).toBeNull();
    expect(off["CUDA_VISIBLE_DEVICES"]).toBeUndefined();
  });
});

describe("countNvidiaGpus", () => {
  it("counts /dev/nvidiaN, not nvidiactl or nvidia-uvm", () => {
    const dev = mkdtempSync(join(tmpdir(), "lasp-dev-"));
    for (const n of ["nvidia0", "nvidia1", "nvidia10", "nvidiactl", "nvidia-uvm", "null"]) writeFileSync(join(dev, n), "");
    mkdirSync(join(dev, "dri"));
    expect(countNvidiaGpus(dev)).toBe(3);
    expect(countNvidiaGpus(join(dev, "missing"))).toBe(0);
  });
});
