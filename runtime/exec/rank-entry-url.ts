// Where launchRanks' workers load the rank module from: runtime/exec/rank-entry.ts, or LASP_RANK_ENTRY where a
// bundled lasp (bench/device-cpu) carries its own rank module (a bundle's import.meta.url is the bundle's).
export function rankEntryUrl(env: NodeJS.ProcessEnv = process.env): URL {
  const carried = env["LASP_RANK_ENTRY"];
  return carried ? new URL(carried, "file:///") : new URL("./rank-entry.ts", import.meta.url);
}
