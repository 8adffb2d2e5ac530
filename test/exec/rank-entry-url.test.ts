// Where workers load the rank module: runtime/exec/rank-entry.ts, or the bundled module LASP_RANK_ENTRY names
// (bench/device-cpu), for run, verify and op alike.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { rankEntryUrl } from "../../runtime/exec/rank-entry-url.ts";

describe("rankEntryUrl", () => {
  it("is the runtime's rank-entry.ts by default, and LASP_RANK_ENTRY's file where it is set", () => {
    const own = rankEntryUrl({});
    expect(own.pathname.endsWith("/runtime/exec/rank-entry.ts")).toBe(true);
    expect(existsSync(fileURLToPath(own))).toBe(true);
    expect(rankEntryUrl({ LASP_RANK_ENTRY: "/opt/lasp/rank-entry.mjs" }).href).toBe("file:///opt/lasp/rank-entry.mjs");
  });
});
