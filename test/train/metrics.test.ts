// metrics.jsonl writer/reader (resume drops later steps, torn last line skipped) and the progress display.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MetricsWriter, type StepMetrics, readMetrics } from "../../runtime/train/metrics.ts";
import { Progress, bar, formatEta } from "../../runtime/train/progress.ts";

const rec = (step: number, extra: Partial<StepMetrics> = {}): StepMetrics => ({
  step, loss: 5 - step * 0.1, lr: 1e-3, gradNorm: 1.5, tokensPerSec: 1000, commBytesPerRank: 4096,
  stepSeconds: 0.5, computeSeconds: 0.4, commWaitSeconds: 0.05, ...extra,
});

describe("metrics.jsonl", () => {
  it("writes one line per step with extra fields, and reads them back", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "m-")), "metrics.jsonl");
    const w = MetricsWriter.open(file);
    for (let s = 0; s < 4; s++) w.write(rec(s, { accuracy: s / 4, layer0Bytes: 12, note: "x" }));
    w.close();
    expect(fs.readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);
    const back = readMetrics(file);
    expect(back.map((m) => m.step)).toEqual([0, 1, 2, 3]);
    expect(back[2]).toEqual(rec(2, { accuracy: 0.5, layer0Bytes: 12, note: "x" }));
    expect(() => w.write(rec(9))).toThrow(/closed/);
    expect(() => MetricsWriter.open(file).write({ step: 1 } as StepMetrics)).toThrow(/field 'loss' missing/);
  });

  it("resume drops steps at or after the resume point; a torn last line is skipped", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "m-")), "metrics.jsonl");
    const w = MetricsWriter.open(file);
    for (let s = 0; s < 6; s++) w.write(rec(s));
    w.close();
    fs.appendFileSync(file, '{"step": 6, "lo');
    expect(readMetrics(file).map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5]);
    const w2 = MetricsWriter.open(file, { resumeFromStep: 4 });
    w2.write(rec(4, { loss: 9 }));
    w2.close();
    const back = readMetrics(file);
    expect(back.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
    expect(back[4]!.loss).toBe(9);
    fs.writeFileSync(file, "{bad\n" + JSON.stringify(rec(1)) + "\n");
    expect(() => readMetrics(file)).toThrow(/metrics\.jsonl:1: not a JSON line/);
  });
});

describe("progress", () => {
  it("formats ETA and bars", () => {
    expect(formatEta(65)).toBe("01:05");
    expect(formatEta(3725)).toBe("1:02:05");
    expect(formatEta(NaN)).toBe("--:--");
    expect(bar(5, 10, 10)).toBe("[#####-----]");
  });

  it("on a TTY rewrites one line with step, loss, tok/s, MB/step and ETA", () => {
    let out = "";
    let t = 0;
    const p = new Progress(10, { out: { write: (s: string) => (out += s), isTTY: true, columns: 200 }, now: () => t });
    for (let d = 1; d <= 3; d++) {
      t += 2;
      p.update({ done: d, loss: 2.5, tokensPerSec: 12345, commBytesPerStep: 2.5e6 });
    }
    p.finish();
    expect(out.split("\r").length).toBe(4);
    expect(out.endsWith("\n")).toBe(true);
    expect(out).not.toMatch(/\n.*\r/);
    expect(out).toContain("step 3/10 loss 2.5000 12.3k tok/s comm 2.50 MB/step ETA 00:14");
  });

  it("off a TTY prints plain lines every k steps and the last one", () => {
    const lines: string[] = [];
    const p = new Progress(25, { out: { write: (s: string) => lines.push(s) }, every: 10, now: () => 0 });
    for (let d = 1; d <= 25; d++) p.update({ done: d, loss: 1, accuracy: 0.5, tokensPerSec: 10, commBytesPerStep: 0 });
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["1/25", "10/25", "20/25", "25/25"]);
    expect(lines.every((l) => l.endsWith("\n") && !l.includes("\r"))).toBe(true);
    expect(lines[0]).toContain("acc 50.0%");
  });

  it("a held-out measurement is always printed, and on a TTY stays on screen above the bar", () => {
    const lines: string[] = [];
    const p = new Progress(25, { out: { write: (s: string) => lines.push(s) }, every: 10, now: () => 0 });
    for (let d = 1; d <= 25; d++) p.update({ done: d, loss: 1, tokensPerSec: 10, commBytesPerStep: 0, ...(d === 7 ? { evalLoss: 0.75, evalAccuracy: 0.25 } : {}) });
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["1/25", "7/25", "10/25", "20/25", "25/25"]);
    expect(lines[1]).toContain("loss 1.0000 held-out 0.7500 acc 25.0% ");
    let out = "";
    const tty = new Progress(10, { out: { write: (s: string) => (out += s), isTTY: true, columns: 200 }, now: () => 0 });
    tty.update({ done: 1, loss: 2, tokensPerSec: 1, commBytesPerStep: 0 });
    tty.update({ done: 2, loss: 2, tokensPerSec: 1, commBytesPerStep: 0, evalLoss: 1.5 });
    tty.update({ done: 3, loss: 2, tokensPerSec: 1, commBytesPerStep: 0 });
    tty.finish();
    // the step-2 line, with its held-out loss, ends with a newline; step 3's bar starts below it
    expect(out).toMatch(/step 2\/10 loss 2\.0000 held-out 1\.5000 [^\r\n]*\n\r\[[#-]+\] step 3\/10/);
  });
});
