// Small helpers shared by the benchmark scripts: medians, fixed-width tables, flags, the machine line
// (cores, load average) printed next to every table, and the JSON result file.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Right-aligned columns except the first; header underlined. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ");
  return [line(header), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)].join("\n");
}

export interface Machine {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly node: string;
  /** 1, 5 and 15 minute load averages when the run started and ended */
  readonly loadStart: number[];
  loadEnd: number[];
}

export function machine(): Machine {
  const c = cpus();
  return {
    date: new Date().toISOString(),
    cpus: c.length,
    cpuModel: c[0]?.model ?? "?",
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadStart: loadavg().map((x) => Math.round(x * 100) / 100),
    loadEnd: [],
  };
}

export function machineLine(m: Machine): string {
  return `${m.date}  ${m.cpus} cores (${m.cpuModel}), ${m.memGiB} GiB, node ${m.node}; load average ${m.loadStart.join(" ")} at start${m.loadEnd.length > 0 ? `, ${m.loadEnd.join(" ")} at end` : ""}`;
}

export function finish(m: Machine): void {
  m.loadEnd = loadavg().map((x) => Math.round(x * 100) / 100);
}

export function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(data, null, 2) + "\n");
}

/** --name value / --name=value / --flag; unknown flags throw so typos are not silently ignored. */
export function flags(argv: readonly string[], known: Record<string, "string" | "boolean">): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (m === null || known[m[1]!] === undefined) throw new Error(`unknown argument '${a}' (known: ${Object.keys(known).map((k) => `--${k}`).join(" ")})`);
    const name = m[1]!;
    if (known[name] === "boolean") out.set(name, true);
    else {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      out.set(name, v);
    }
  }
  return out;
}

export const fmtS = (s: number): string => (Number.isNaN(s) ? "-" : s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3));
export const fmtBytes = (b: number): string =>
  Number.isNaN(b) ? "-" : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`;
export const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : "-");
