// Reads a run directory for the report: metrics.jsonl (required) and timeline.json (optional, one
// step's events per rank), with errors that name the file and the fault.
import * as fs from "node:fs";
import * as path from "node:path";
import { type StepMetrics, readMetrics } from "../runtime/train/metrics.ts";

export type EventKind = "compute" | "comm_wait" | "comm_start";

/** One span of one rank's step, in seconds from the step's start. comm_start may be instantaneous. */
export interface TimelineEvent {
  readonly rank: number;
  readonly kind: EventKind;
  readonly label: string;
  readonly layer: number | null;
  readonly t0: number;
  readonly t1: number;
}

export interface RunData {
  readonly dir: string;
  readonly metrics: StepMetrics[];
  readonly timeline: TimelineEvent[] | null;
  /** run.json or spec summary, when the run wrote one (shown verbatim) */
  readonly info: Record<string, unknown> | null;
}

const KINDS = new Set<string>(["compute", "comm_wait", "comm_start"]);

/**
 * timeline.json: a list of events, a list of per-rank lists, or {"ranks": [[...], ...]} /
 * {"events": [...]}; each event {rank, kind, label, layer, t0, t1} (rank optional inside per-rank
 * lists, t1 optional for comm_start).
 */
export function parseTimeline(json: unknown, file: string): TimelineEvent[] {
  // per-rank lists may leave `rank` out: it is then the list's index
  const withRank = (lists: unknown[]): unknown[] =>
    lists.flatMap((x, r) => (Array.isArray(x) ? x.map((e) => (e !== null && typeof e === "object" && !("rank" in e) ? { ...e, rank: r } : e)) : [x]));
  let flat: unknown[];
  if (Array.isArray(json)) flat = withRank(json);
  else if (json !== null && typeof json === "object" && Array.isArray((json as { ranks?: unknown }).ranks)) {
    flat = withRank((json as { ranks: unknown[] }).ranks);
  } else if (json !== null && typeof json === "object" && Array.isArray((json as { events?: unknown }).events)) {
    flat = (json as { events: unknown[] }).events;
  } else throw new Error(`${file}: expected a list of events or {"ranks": [...]}`);
  return flat.map((e, i) => {
    const ev = e as Partial<Record<keyof TimelineEvent, unknown>>;
    const bad = (what: string): never => {
      throw new Error(`${file}: event ${i}: ${what}`);
    };
    if (ev === null || typeof ev !== "object") bad("not an object");
    if (!Number.isInteger(ev.rank) || (ev.rank as number) < 0) bad(`rank ${JSON.stringify(ev.rank)} is not a non-negative integer`);
    if (typeof ev.kind !== "string" || !KINDS.has(ev.kind)) bad(`kind ${JSON.stringify(ev.kind)} is not one of compute, comm_wait, comm_start`);
    if (typeof ev.t0 !== "number" || !Number.isFinite(ev.t0)) bad("t0 is not a number");
    const t1 = ev.t1 === undefined ? ev.t0 : ev.t1;
    if (typeof t1 !== "number" || !Number.isFinite(t1) || t1 < (ev.t0 as number)) bad("t1 is not a number >= t0");
    return {
      rank: ev.rank as number,
      kind: ev.kind as EventKind,
      label: typeof ev.label === "string" ? ev.label : "",
      layer: typeof ev.layer === "number" ? ev.layer : null,
      t0: ev.t0 as number,
      t1: t1 as number,
    };
  });
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: cannot read JSON: ${(e as Error).message}`);
  }
}

export function loadRun(dir: string): RunData {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`run directory ${dir} does not exist`);
  const mfile = path.join(dir, "metrics.jsonl");
  if (!fs.existsSync(mfile)) throw new Error(`${mfile} not found: is ${dir} the directory a 'lasp run' wrote?`);
  const metrics = readMetrics(mfile);
  if (metrics.length === 0) throw new Error(`${mfile} has no metric lines`);
  const tfile = path.join(dir, "timeline.json");
  const timeline = fs.existsSync(tfile) ? parseTimeline(readJson(tfile), tfile) : null;
  const ifile = path.join(dir, "run.json");
  const info = fs.existsSync(ifile) ? (readJson(ifile) as Record<string, unknown>) : null;
  return { dir, metrics, timeline, info };
}
