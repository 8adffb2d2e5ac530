// Test helper: runs a script under `mpirun --oversubscribe -np W node --import tsx` and collects its
// output. A missing mpirun or unbuilt addon is a failure with the fix in the message, never a skip.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MPI_BUILD_HINT, mpiBindingPath } from "../../runtime/comm/mpi/binding.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface MpiRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** parsed stdout lines that are JSON objects */
  json: Record<string, unknown>[];
}

/** Throws with the install/build command when mpirun or the addon is missing. */
export function requireMpi(): void {
  const v = spawnSync("mpirun", ["--version"], { encoding: "utf8" });
  if (v.error || v.status !== 0)
    throw new Error(`mpirun not found (${v.error?.message ?? v.stderr}): ${MPI_BUILD_HINT}`);
  if (!existsSync(mpiBindingPath())) throw new Error(`MPI addon not built at ${mpiBindingPath()}: ${MPI_BUILD_HINT}`);
}

export function mpirun(
  np: number,
  script: string,
  args: string[],
  opts: { killAfterMs: number; env?: Record<string, string> },
): Promise<MpiRun> {
  requireMpi();
  const argv = [
    "--oversubscribe",
    "--bind-to",
    "none",
    "-np",
    String(np),
    process.execPath,
    "--import",
    "tsx",
    script,
    ...args,
  ];
  const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1", ...opts.env };
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("mpirun", argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const json = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .flatMap((l) => {
          // a line of pretty-printed JSON is not an object: skip it (a throw here would leave the promise hanging)
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, json });
    });
  });
}
