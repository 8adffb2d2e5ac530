// `lasp simulate SPEC --gpus G [--seq N] [--hardware PROFILE] [--dtype fp32|bf16] [--json] [--set p=v]...`:
// predicted step time, tokens/s and memory per device of every method combination (compiler/cost/simulate.ts).
import os from "node:os";
import { loadSpecFile, formatDiagnostic } from "../../dsl/index.ts";
import { simulate, type SimResult } from "../../compiler/cost/simulate.ts";
import {
  findProfile,
  PROFILE_NAMES,
  SIM_DTYPES,
  type HardwareProfile,
  type SimDtype,
} from "../../compiler/cost/hardware/profile.ts";
import { UsageError, closest, flagBool, flagList, flagString, parseArgs } from "../args.ts";
import type { Command } from "../main.ts";

/** A token count: digits with an optional K (x1024) or M (x1048576) suffix, as the DSL writes `seq 2048K`. */
export function parseCount(flag: string, v: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(v);
  const n = m === null ? NaN : Number(m[1]) * (m[2] === "" ? 1 : m[2]!.toLowerCase() === "k" ? 1024 : 1024 * 1024);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${flag} must be a positive integer (K and M suffixes allowed), got '${v}'`);
  return n;
}

async function resolveProfile(name: string, refresh: boolean): Promise<HardwareProfile> {
  if (name.toLowerCase() === "local") {
    const { loadLocalProfile } = await import("../../compiler/cost/hardware/local.ts");
    return loadLocalProfile({ refresh });
  }
  const p = findProfile(name);
  if (p === undefined) {
    const hint = closest(name, PROFILE_NAMES);
    throw new UsageError(
      `--hardware: unknown profile '${name}' (profiles: ${PROFILE_NAMES.join(", ")})${hint !== undefined ? `; did you mean ${hint}?` : ""}`,
    );
  }
  return p;
}

const si = (v: number, unit: string) => {
  const p = ["", "k", "M", "G", "T"];
  let i = 0;
  while (Math.abs(v) >= 1000 && i < p.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toPrecision(3)} ${p[i]}${unit}`;
};
const secs = (s: number) =>
  s >= 1 ? `${s.toFixed(3)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(2)} ms` : `${(s * 1e6).toFixed(1)} us`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

export function simulateText(r: SimResult, hw: HardwareProfile): string {
  const nodes = Number.isFinite(hw.devicesPerNode) ? Math.ceil(r.gpus / hw.devicesPerNode) : 1;
  const lines = [
    `simulate: ${r.model} on ${r.gpus} x ${r.profile} (${nodes} node${nodes === 1 ? "" : "s"}), sp=${r.sp} dp=${r.dp}, seq=${r.seq}, ` +
      `${r.tokensPerStep} tokens/step, ${r.dtype}, ${gib(r.deviceMemoryBytes)} per device`,
    "",
  ];
  const head = ["linear", "softmax", "step", "tokens/s", "vs lasp2", "compute", "waiting", "memory/device", "fits"];
  const rows = r.results.map((x) => [
    x.linear,
    x.softmax,
    secs(x.stepSeconds),
    si(x.tokensPerSec, ""),
    `${x.vsLasp2.toFixed(3)}x`,
    secs(x.time.computeSeconds),
    secs(x.time.exposedCommSeconds),
    gib(x.memoryBytesPerDevice),
    x.fits ? "yes" : "NO",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [head, ...rows])
    lines.push(
      row
        .map((c, i) => c.padEnd(w[i]!))
        .join("  ")
        .trimEnd(),
    );
  for (const s of r.skipped) lines.push(`skipped ${s.linear}/${s.softmax}: ${s.reason}`);
  const levers = r.results.filter((x) => x.withRecompute !== undefined);
  if (levers.length > 0) {
    lines.push(
      "",
      "rows that do not fit, with train.recompute=on (each layer's forward again in its backward), and with the",
      "fewest layers recomputed that fit (train.recompute=N: the first N layers):",
    );
    for (const x of levers) {
      const w = x.withRecompute!;
      const ratio = (t: number): string => `${(t / x.stepSeconds).toFixed(2)}x`;
      lines.push(
        `  ${x.linear}/${x.softmax}: on: ${gib(w.memoryBytesPerDevice)} per device (${w.fits ? "fits" : "still does not fit"}), ` +
          `${secs(w.stepSeconds)} per step (${ratio(w.stepSeconds)})` +
          (w.fewest !== undefined
            ? `; ${w.fewest.layers} of ${w.layers}: ${gib(w.fewest.memoryBytesPerDevice)}, ${secs(w.fewest.stepSeconds)} (${ratio(w.fewest.stepSeconds)})`
            : ""),
      );
    }
  }
  lines.push(
    "",
    "step = forward + backward + gradient all-reduce (as the plan schedules them) + AdamW; see docs/COST-MODEL.md" +
      (r.accum > 1 ? `\n  x ${r.accum} micro-batches (train.accum): the gradient all-reduce only after the last` : ""),
  );
  return lines.join("\n") + "\n";
}

export const command: Command = {
  summary:
    "Predict step time, tokens/s and memory per device of every SP method on a cluster, from the plan's own counts.",
  usage: `lasp simulate SPEC --gpus G [--seq N] [--hardware ${PROFILE_NAMES.join("|")}] [--dtype fp32|bf16] [--json] [--refresh] [--set path=value]...`,
  async run(argv) {
    const args = parseArgs(argv, {
      gpus: { type: "string" },
      seq: { type: "string" },
      hardware: { type: "string" },
      dtype: { type: "string" },
      json: { type: "boolean" },
      refresh: { type: "boolean" },
      set: { type: "list" },
    });
    if (args.positional.length !== 1)
      throw new UsageError(args.positional.length === 0 ? "missing SPEC" : "expected one SPEC");
    const file = args.positional[0]!;
    if (file.endsWith(".json"))
      throw new UsageError("simulate takes a .lasp SPEC (it compiles one plan per method), not a plan");
    const g = flagString(args, "gpus");
    if (g === undefined) throw new UsageError("--gpus is required");
    const gpus = parseCount("gpus", g);
    const seqFlag = flagString(args, "seq");
    const seq = seqFlag === undefined ? undefined : parseCount("seq", seqFlag);
    const dtype = (flagString(args, "dtype") ?? "fp32") as SimDtype;
    if (!SIM_DTYPES.includes(dtype))
      throw new UsageError(`--dtype must be one of ${SIM_DTYPES.join(", ")}, got '${dtype}'`);
    const hw = await resolveProfile(flagString(args, "hardware") ?? "H100-80GB", flagBool(args, "refresh"));
    const loaded = loadSpecFile(file, flagList(args, "set"));
    const pretty = process.stderr.isTTY === true;
    for (const d of loaded.diagnostics)
      process.stderr.write(formatDiagnostic(d, loaded.source, { pretty, color: pretty }) + "\n");
    if (loaded.spec === undefined) return 1;
    if (gpus % loaded.spec.parallel.dp !== 0)
      throw new UsageError(`--gpus ${gpus} is not a multiple of the spec's dp ${loaded.spec.parallel.dp}`);
    if (hw.computeUnits !== undefined && os.loadavg()[0]! > hw.computeUnits)
      process.stderr.write(
        `lasp simulate: note: load average ${os.loadavg()[0]!.toFixed(1)} on ${hw.computeUnits} cores; a benchmark run now is slower than the prediction\n`,
      );
    const r = simulate(loaded.spec, gpus, hw, { ...(seq !== undefined ? { seq } : {}), dtype });
    if (flagBool(args, "json"))
      process.stdout.write(
        JSON.stringify(
          { ...r, hardware: { name: hw.name, description: hw.description, sources: hw.sources } },
          null,
          2,
        ) + "\n",
      );
    else process.stdout.write(simulateText(r, hw));
    return r.results.length > 0 ? 0 : 1;
  },
};
