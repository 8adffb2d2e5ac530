// Re-predicts the rows of a methods.ts JSON with the local profile as it is now (measured again with
// --refresh), beside what that run measured: on a shared machine the profile measured at the start of a
// run can be taken under load, and this separates the model's error from the profile's. Prints a table.
//   npx tsx bench/resim.ts bench/results/methods.json [--refresh]
import { readFileSync } from "node:fs";
import { compileConfig, DEFAULT_MODEL, fmtTokens, type BenchConfig } from "./lib/specs.ts";
import { table } from "./lib/stats.ts";
import { predictPlan } from "../compiler/cost/simulate.ts";
import { loadLocalProfile } from "../compiler/cost/hardware/local.ts";
import { emulatedProfile } from "./lib/predict.ts";
import type { LinkEmulation } from "../runtime/comm/link-emulator.ts";

interface Side {
  stepSeconds: number;
  commWaitSeconds: number;
}
interface Row {
  kind: BenchConfig["kind"];
  seq: number;
  method: BenchConfig["method"];
  on: Side | null;
}

const file = process.argv[2];
if (file === undefined || file.startsWith("--")) throw new Error("usage: npx tsx bench/resim.ts METHODS_JSON [--refresh]");
const run = JSON.parse(readFileSync(file, "utf8")) as { ranks: number; model?: BenchConfig["model"]; rows: Row[]; link?: LinkEmulation | null; devices?: { slots: number } | null };
const local = await loadLocalProfile({ refresh: process.argv.includes("--refresh") });
// a run with an emulated link (its profile as JSON: devicesPerNode Infinity was written as null) or emulated devices
const link = run.link == null ? null : { ...run.link, perNode: run.link.perNode ?? Infinity, profile: { ...run.link.profile, devicesPerNode: run.link.profile.devicesPerNode ?? Infinity } };
const hw = link !== null || run.devices != null ? emulatedProfile(local, link, run.devices != null) : local;
const lines: string[][] = [];
for (const r of run.rows) {
  if (r.on === null || !Number.isFinite(r.on.stepSeconds)) continue;
  const cfg: BenchConfig = { kind: r.kind, method: r.method, seq: r.seq, ranks: run.ranks, overlap: true, model: run.model ?? DEFAULT_MODEL };
  const p = predictPlan(compileConfig(cfg), hw);
  lines.push([
    r.kind,
    fmtTokens(r.seq),
    r.method,
    r.on.stepSeconds.toFixed(3),
    p.stepSeconds.toFixed(3),
    `${(p.stepSeconds / r.on.stepSeconds).toFixed(2)}x`,
    r.on.commWaitSeconds.toFixed(3),
    p.time.exposedCommSeconds.toFixed(3),
  ]);
}
console.log(`resim: ${file} with ${hw.name}: ${hw.sources[0]}\n`);
console.log(table(["layer", "N", "method", "measured s", "sim s", "sim/meas", "wait s", "sim wait s"], lines));
