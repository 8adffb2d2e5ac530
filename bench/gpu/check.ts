// GPU check (run by bench/gpu/run.sh on the lent machine, or here under lavapipe): adapter info,
// correctness of the webgpu backend against float64 oracles, matmul GFLOP/s vs the card's fp32 peak,
// linear-attention tokens/s. Prints rows as it goes and a table at the end; writes results.json.
import * as tf from "@tensorflow/tfjs-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWebGPU, stopWebGPU, type WebGPUInfo } from "../../runtime/backend/webgpu.ts";
import { linearCorrectness, linearSpeed, softmaxCorrectness } from "./attention-check.ts";
import { clock, record, rows, secondsLeft } from "./common.ts";
import { matmulCorrectness, matmulSpeed } from "./matmul-bench.ts";
import { sharedGpu, sharedGpuWorker } from "./shared-gpu.ts";
import { blockSweep, dispatchCost, tileSweep } from "./tune.ts";

interface Args {
  budgetS: number;
  quick: boolean;
  only: "all" | "matmul" | "probe" | "tune" | "linear";
  out: string;
  label: string;
  peak: number | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { budgetS: 240, quick: false, only: "all", out: process.env["OUT"] ?? "bench/gpu/out", label: "default", peak: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1] ?? "";
    if (k === "--quick") {
      a.quick = true;
      continue;
    }
    if (k === "--budget-s") a.budgetS = Number(v);
    else if (k === "--only") a.only = v as Args["only"];
    else if (k === "--out") a.out = v;
    else if (k === "--label") a.label = v;
    else if (k === "--peak-tflops") a.peak = Number(v);
    else throw new Error(`check: unknown argument ${k}`);
    i++; // the flag's value
  }
  return a;
}

/** Datasheet fp32 (non-tensor-core) peaks in TFLOP/s; a lead, not a measurement. */
export function fp32Peak(name: string): number | null {
  const s = name.toLowerCase();
  if (s.includes("h200")) return 66.9;
  if (s.includes("h100") && s.includes("pcie")) return 51.2;
  if (s.includes("h100") && s.includes("nvl")) return 60.0;
  if (s.includes("h100")) return 66.9;
  if (s.includes("a100")) return 19.5;
  return null;
}

function table(): string {
  const lines = ["| section | case | error vs float64 | result | ms | rate | note |", "| --- | --- | --- | --- | --- | --- | --- |"];
  for (const r of rows) {
    const err = r.err === null ? "" : r.err.toExponential(2);
    const res = r.pass === null ? "" : r.pass ? "PASS" : "FAIL";
    const ms = r.ms === null ? "" : r.ms.toFixed(2);
    const rate = r.rate === null ? "" : `${r.rate >= 1e5 ? r.rate.toExponential(3) : r.rate.toFixed(0)} ${r.unit}`;
    lines.push(`| ${r.section} | ${r.name} | ${err} | ${res} | ${ms} | ${rate} | ${r.note} |`);
  }
  return lines.join("\n");
}

async function section(name: string, fn: () => Promise<void>): Promise<void> {
  if (secondsLeft() < 10) {
    record({ section: name, name: "(section)", note: "skipped: out of time" });
    return;
  }
  try {
    await fn();
  } catch (e) {
    record({ section: name, name: "(section)", pass: false, note: `ERROR ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}` });
  }
}

async function main(): Promise<void> {
  if (await sharedGpuWorker()) return;
  const args = parseArgs(process.argv.slice(2));
  clock.deadline = performance.now() + args.budgetS * 1000;
  const t0 = performance.now();
  const started = await startWebGPU();
  if (!started.ok) {
    console.log(`NO ADAPTER: ${started.reason}`);
    process.exit(2);
  }
  const info: WebGPUInfo = started.info;
  console.log(`adapter: ${JSON.stringify(info)}`);
  console.log(`startup ${(performance.now() - t0).toFixed(0)} ms; tfjs backend ${tf.getBackend()}`);
  const peak = args.peak ?? fp32Peak(`${info.description} ${info.device}`);
  if (args.only === "tune") {
    await section("dispatch", () => dispatchCost(args.quick ? 50 : 2000));
    await section("tile-sweep", () => tileSweep(args.quick ? [128] : [2048, 4096, 8192], peak, args.quick ? 3 : 200));
    await section("linear-speed", () => args.quick ? blockSweep(256, [64, 128], 4, 32) : blockSweep(65536, [64, 128, 256, 512], 16, 64));
  } else if (args.only === "linear") {
    // the attention kernels alone (RUN_MODE=fused runs this with LASP_WEBGPU_FUSED=0 and =1)
    await section("linear-check", linearCorrectness);
    await section("softmax-check", softmaxCorrectness);
    await section("linear-speed", () => linearSpeed(args.quick ? [512] : [16384, 65536, 131072], args.quick ? 4 : 16, args.quick ? 32 : 64, 128));
    await section("linear-speed", () => (args.quick ? blockSweep(256, [64, 128], 4, 32) : blockSweep(65536, [32, 64, 128, 256, 512], 16, 64)));
  } else if (args.only !== "probe") {
    await section("matmul-check", () => matmulCorrectness(args.quick));
    const sizes = args.quick ? [128] : [1024, 2048, 4096, 8192];
    await section("matmul-speed", () => matmulSpeed(sizes, peak, args.quick ? 3 : 200));
    if (args.only === "all") {
      await section("shared-gpu", () => sharedGpu(new URL(import.meta.url), args.quick ? 128 : 4096, args.quick ? 2 : 20));
      await section("linear-check", linearCorrectness);
      await section("softmax-check", softmaxCorrectness);
      const ns = args.quick ? [512] : [16384, 65536, 131072];
      await section("linear-speed", () => linearSpeed(ns, args.quick ? 4 : 16, args.quick ? 32 : 64, 128));
    }
  }
  const failed = rows.filter((r) => r.pass === false).length;
  const md = table();
  console.log(`\n== ${args.label}: ${info.description || info.device} (${info.vendor}/${info.architecture}), flags ${info.flags.join(" ")}, fp32 peak ${peak ?? "?"} TFLOP/s ==`);
  console.log(md);
  console.log(`${failed === 0 ? "ALL CHECKS PASSED" : `${failed} CHECK(S) FAILED`}; total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, `results-${args.label}.json`), JSON.stringify({ label: args.label, info, peak, rows }, null, 1));
  writeFileSync(join(args.out, `table-${args.label}.md`), md + "\n");
  await stopWebGPU();
  process.exit(failed === 0 ? 0 : 1);
}

await main();
