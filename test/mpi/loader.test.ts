// loadMpi() without a usable addon: a clear error that says how to install and build it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadMpi, MPI_BUILD_HINT } from "../../runtime/comm/mpi/binding.ts";

describe("loadMpi", () => {
  afterEach(() => {
    delete process.env["LASP_MPI_BINDING"];
  });

  it("names the build command when the addon is missing", () => {
    process.env["LASP_MPI_BINDING"] = "/nonexistent/lasp_mpi.node";
    expect(() => loadMpi()).toThrow(
      "--transport mpi needs the MPI binding: apt-get install openmpi-bin libopenmpi-dev && npm run build:mpi",
    );
  });

  it("names the build command and the loader's reason when the file is not an addon", () => {
    const path = join(mkdtempSync(join(tmpdir(), "lasp-mpi-")), "lasp_mpi.node");
    writeFileSync(path, "not a shared object");
    process.env["LASP_MPI_BINDING"] = path;
    expect(() => loadMpi()).toThrow(MPI_BUILD_HINT);
    expect(() => loadMpi()).toThrow(/loading .* failed: .*(invalid ELF|too short)/);
  });
});
