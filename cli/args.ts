// A small, strict argument parser shared by every subcommand: declared flags only, repeated flags
// collected, unknown flags are a usage error that names the flag and suggests the closest known one.

export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  /** "string" takes a value, "boolean" does not; "list" takes a value and may repeat */
  readonly type: "string" | "boolean" | "list";
  readonly alias?: string;
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Map<string, string | boolean | string[]>;
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The closest candidate within a small edit distance, for "did you mean". */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word, c);
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | boolean | string[]>();
  const aliases = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.alias !== undefined) aliases.set(s.alias, name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    let key = arg.replace(/^--?/, "");
    let value: string | undefined;
    const eq = key.indexOf("=");
    if (eq >= 0 && arg.startsWith("--")) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    }
    key = aliases.get(key) ?? key;
    const s = spec[key];
    if (s === undefined) {
      const hint = closest(key, Object.keys(spec));
      throw new UsageError(`unknown flag '${arg}'${hint !== undefined ? ` (did you mean --${hint}?)` : ""}`);
    }
    if (s.type === "boolean") {
      if (value !== undefined) throw new UsageError(`flag --${key} takes no value`);
      flags.set(key, true);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`flag --${key} needs a value`);
    }
    if (s.type === "list") {
      const prev = flags.get(key);
      flags.set(key, [...(Array.isArray(prev) ? prev : []), value]);
    } else {
      if (flags.has(key)) throw new UsageError(`flag --${key} given twice`);
      flags.set(key, value);
    }
  }
  return { positional, flags };
}

export function flagString(a: ParsedArgs, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function flagBool(a: ParsedArgs, name: string): boolean {
  return a.flags.get(name) === true;
}

export function flagList(a: ParsedArgs, name: string): string[] {
  const v = a.flags.get(name);
  return Array.isArray(v) ? v : [];
}

/** A positive integer flag, or the default; anything else is a usage error naming the flag. */
export function flagInt(a: ParsedArgs, name: string, dflt: number, min = 1): number {
  const v = flagString(a, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
}

/** --transport threads|mpi (default threads). */
export function flagTransport(a: ParsedArgs): "threads" | "mpi" {
  const t = flagString(a, "transport") ?? "threads";
  if (t !== "threads" && t !== "mpi") throw new UsageError(`--transport must be threads or mpi, got '${t}'`);
  return t;
}

/** --timeout SECONDS as milliseconds (default 120 s): any positive number of seconds. */
export function flagTimeoutMs(a: ParsedArgs, dfltSeconds = 120): number {
  const v = flagString(a, "timeout");
  const s = Number(v ?? String(dfltSeconds));
  if (!(s > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got '${v}'`);
  return s * 1000;
}
