// metrics.jsonl: one JSON object per training step, appended and flushed line by line so a killed
// run keeps every finished step; the reader skips only a torn last line.
import * as fs from "node:fs";
import { writeFileAtomic } from "../io/atomic.ts";

/** One step's record. Seconds are wall-clock; bytes are those this rank received (see ALGORITHM.md 5). */
export interface StepMetrics {
  /** 0-based index of the step just finished */
  step: number;
  loss: number;
  /** fraction of scored positions predicted right (MQAR); absent when not computed */
  accuracy?: number;
  lr: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  tokensPerSec: number;
  commBytesPerRank: number;
  stepSeconds: number;
  computeSeconds: number;
  commWaitSeconds: number;
  /** any extra fields (non-finite numbers are written as null) */
  [extra: string]: number | string | boolean | null | undefined;
}

export const METRICS_REQUIRED = [
  "step", "loss", "lr", "gradNorm", "tokensPerSec", "commBytesPerRank", "stepSeconds", "computeSeconds", "commWaitSeconds",
] as const;

export class MetricsWriter {
  private fd: number | undefined;

  private constructor(readonly file: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Open for appending. With resumeFromStep, records of steps >= it (written after the checkpoint a
   * run resumes from) are dropped first, so the file has each step once.
   */
  static open(file: string, opts: { resumeFromStep?: number } = {}): MetricsWriter {
    if (opts.resumeFromStep !== undefined && fs.existsSync(file)) {
      const keep = readMetrics(file).filter((m) => m.step < opts.resumeFromStep!);
      writeFileAtomic(file, keep.map((m) => JSON.stringify(m) + "\n").join(""));
    } else if (opts.resumeFromStep === undefined) {
      fs.writeFileSync(file, "");
    }
    return new MetricsWriter(file, fs.openSync(file, "a"));
  }

  write(m: StepMetrics): void {
    if (this.fd === undefined) throw new Error(`metrics writer for ${this.file} is closed`);
    for (const k of METRICS_REQUIRED) {
      if (typeof m[k] !== "number") throw new Error(`metrics: field '${k}' missing or not a number in step ${m.step}`);
    }
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (v !== undefined) clean[k] = v;
    fs.writeSync(this.fd, JSON.stringify(clean) + "\n");
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Parse a metrics file. A torn last line is skipped; any other bad line is an Error naming file:line. */
export function readMetrics(file: string): StepMetrics[] {
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  const out: StepMetrics[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // torn final line of a killed run
      throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
    if (typeof rec !== "object" || rec === null || typeof (rec as { step?: unknown }).step !== "number") {
      throw new Error(`${file}:${i + 1}: a metrics record needs a numeric 'step'`);
    }
    out.push(rec as StepMetrics);
  });
  return out;
}
