// The mpirun counterpart of launchRanks: in each MPI process, build the RankContext, import the entry
// module, run its rankMain, and print the result as one JSON line; an error aborts the whole job.
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { RankMain } from "../context.ts";
import { loadMpi } from "./binding.ts";
import { mpiFinalize, mpiRankContext, type MpiRankOptions } from "./context.ts";

/** JSON-safe copy: typed arrays become plain number arrays (the same on every transport). */
export function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * Runs `rankMain(ctx, args)` of `entry` (a path or URL of a module) on this MPI rank and writes
 * `{"rank":R,"result":<plain(result)>}` on stdout, then finalizes. A failure prints
 * `lasp mpi: rank R failed: ...` and calls MPI_Abort, so mpirun ends every rank.
 */
export async function runRankMain(
  entry: string,
  sp: number,
  dp: number,
  args: unknown,
  opts: MpiRankOptions = {},
): Promise<void> {
  const ctx = await mpiRankContext(sp, dp, opts);
  try {
    const url = /^[a-z]+:/.test(entry) ? entry : pathToFileURL(resolve(entry)).href;
    const mod = (await import(url)) as { rankMain?: unknown };
    if (typeof mod.rankMain !== "function") throw new Error(`${entry} does not export a rankMain function`);
    const result = await (mod.rankMain as RankMain)(ctx, args);
    process.stdout.write(JSON.stringify({ rank: ctx.rank, result: plain(result) }) + "\n");
  } catch (e) {
    process.stderr.write(
      `lasp mpi: rank ${ctx.rank} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    loadMpi().abort(1);
  }
  mpiFinalize();
}
