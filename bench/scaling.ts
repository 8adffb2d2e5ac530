// LASP-2 scaling on 1, 2, 4 ranks (worker threads): strong (fixed total length N) and weak (fixed length
// per rank), one-layer linear model through the real plan + executor. Prints a table, writes JSON.
// Run: npx tsx bench/scaling.ts [--quick] [--strong 16K] [--weak 4K] [--ranks 1,2,4] [--reps 3] [--devices]
// --devices: a device per rank, emulated (runtime/comm/device-clock.ts; bench/README.md), so 4 ranks scale
// as on 4 devices joined by this machine's shared memory, not as 4 threads on its 2 cores
import { fileURLToPath } from "node:url";
import { loadLocalProfile } from "../compiler/cost/hardware/local.ts";
import { measurePlans, type PlanMeasure } from "./lib/launch.ts";
import { compileConfig, DEFAULT_MODEL, fmtTokens, parseLengths, type BenchConfig } from "./lib/specs.ts";
import { finish, flags, fmtBytes, fmtS, machine, machineLine, table, writeJson } from "./lib/stats.ts";

const f = flags(process.argv.slice(2), { quick: "boolean", strong: "string", weak: "string", ranks: "string", reps: "string", out: "string", devices: "boolean" });
const devices = f.has("devices") ? { slots: 1 } : null;
const local = devices === null ? null : await loadLocalProfile();
const link = local === null ? null : { profile: local, perNode: local.devicesPerNode, scale: 1 };
const quick = f.has("quick");
const strongN = parseLengths((f.get("strong") as string | undefined) ?? (quick ? "2K" : "16K"))[0]!;
const weakC = parseLengths((f.get("weak") as string | undefined) ?? (quick ? "512" : "4K"))[0]!;
const rankCounts = ((f.get("ranks") as string | undefined) ?? "1,2,4").split(",").map(Number);
const reps = Number(f.get("reps") ?? (quick ? 2 : 3));
const out = (f.get("out") as string | undefined) ?? fileURLToPath(new URL(`./results/scaling${quick ? "-quick" : ""}.json`, import.meta.url));
const model = DEFAULT_MODEL;

interface Row {
  mode: "strong" | "weak";
  ranks: number;
  seq: number;
  m: PlanMeasure;
}

const m = machine();
process.stderr.write(`scaling: ranks ${rankCounts.join(", ")}; ${machineLine(m)}\n`);
const rows: Row[] = [];
let backend = "";
for (const R of rankCounts) {
  const cfgs: { mode: Row["mode"]; cfg: BenchConfig }[] = [
    { mode: "strong", cfg: { kind: "linear", method: "lasp2", seq: strongN, ranks: R, overlap: true, model } },
    { mode: "weak", cfg: { kind: "linear", method: "lasp2", seq: weakC * R, ranks: R, overlap: true, model } },
  ];
  const r = await measurePlans(
    cfgs.map((c) => compileConfig(c.cfg)),
    cfgs.map((c) => c.mode),
    { ranks: R, transport: "threads", backend: "wasm", warmup: 1, reps, slowStepSeconds: 30, maxStepSeconds: Infinity, link, devices },
  );
  backend = r.backend;
  cfgs.forEach((c, i) => rows.push({ mode: c.mode, ranks: R, seq: c.cfg.seq, m: r.rows[i]! }));
  process.stderr.write(`  ${R} rank(s) done\n`);
}
finish(m);

const one = (mode: Row["mode"]) => rows.find((r) => r.mode === mode && r.ranks === 1);
const lines = rows.map((r) => {
  const b = one(r.mode);
  // strong: speedup = t1 / tR, efficiency = speedup / R; weak: efficiency = t1 / tR (same work per rank)
  const speedup = b ? (r.mode === "strong" ? b.m.stepSeconds / r.m.stepSeconds : (b.m.stepSeconds / r.m.stepSeconds) * r.ranks) : NaN;
  const eff = speedup / r.ranks;
  return [
    `${r.mode.padEnd(6)} ${String(r.ranks).padStart(2)} ranks`,
    fmtTokens(r.seq),
    fmtTokens(r.seq / r.ranks),
    fmtS(r.m.stepSeconds),
    String(Math.round(r.seq / r.m.stepSeconds)),
    Number.isFinite(speedup) ? `${speedup.toFixed(2)}x` : "-",
    Number.isFinite(eff) ? `${(eff * 100).toFixed(0)}%` : "-",
    fmtS(r.m.commWaitSeconds),
    fmtBytes(r.m.bytesMax),
    r.m.bytesMatch ? "✓" : "✗",
    String(r.m.k),
  ];
});

const report = [
  `lasp bench/scaling: LASP-2, one linear layer (hidden ${model.hidden}, ${model.heads} heads, ffn ${model.ffn}, block ${model.block.linear}), batch 1, overlap on, worker threads, backend ${backend}`,
  machineLine(m),
  devices !== null ? "EMULATED DEVICES: one per rank, one computing at a time, each timed on its own virtual clock; link: this machine's shared memory (local profile)" : "",
  devices === null && m.cpus < Math.max(...rankCounts) ? `NOTE: ${m.cpus} cores: beyond ${m.cpus} ranks the ranks share cores, so strong-scaling speedup is capped near ${m.cpus}x and weak-scaling efficiency near ${m.cpus}/R.` : "",
  "",
  table(["mode   ranks", "N", "N/rank", "step s", "tokens/s", "speedup", "efficiency", "wait s", "recv/rank", "=", "k"], lines),
  "",
  "strong: N fixed, speedup = t(1) / t(R); weak: N/rank fixed, speedup = R t(1) / t(R) (throughput gain); efficiency = speedup / R",
].join("\n");
process.stdout.write(report + "\n");
writeJson(out, { bench: "scaling", machine: m, backend, model, reps, devices, rows });
process.stderr.write(`wrote ${out}\n`);
