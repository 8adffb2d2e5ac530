// `lasp report`: HTML with inline SVG from a synthetic run dir (one polyline point per metric line),
// the timeline's comm spans and overlap, and clear errors for a missing run dir or metrics file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { UsageError } from "../../cli/args.ts";
import { command } from "../../cli/commands/report.ts";
import { parseTimeline } from "../../report/load.ts";
import { commSpans, overlapFraction } from "../../report/timeline.ts";
import { niceTicks } from "../../report/svg.ts";

const N = 17;

function makeRun(withTimeline: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-"));
  const lines = Array.from({ length: N }, (_, s) =>
    JSON.stringify({
      step: s, loss: 5 * Math.exp(-s / 6) + 0.3, accuracy: Math.min(1, s / N), lr: 1e-3, gradNorm: 1,
      tokensPerSec: 4000 + 10 * s, commBytesPerRank: 65536, stepSeconds: 0.5, computeSeconds: 0.42, commWaitSeconds: 0.03,
    }),
  );
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), lines.join("\n") + "\n");
  if (withTimeline) {
    const ranks = [0, 1].map((r) => [
      { rank: r, kind: "compute", label: "state", layer: 0, t0: 0, t1: 0.1 },
      { rank: r, kind: "comm_start", label: "allgather M", layer: 0, t0: 0.1, t1: 0.1 },
      { rank: r, kind: "compute", label: "intra", layer: 0, t0: 0.1, t1: 0.3 },
      { rank: r, kind: "comm_wait", label: "allgather M", layer: 0, t0: 0.3, t1: 0.3 + 0.1 * r },
      { rank: r, kind: "compute", label: "inter", layer: 0, t0: 0.3 + 0.1 * r, t1: 0.5 },
    ]);
    fs.writeFileSync(path.join(dir, "timeline.json"), JSON.stringify({ ranks }));
  }
  return dir;
}

async function quiet<T>(f: () => Promise<T>): Promise<{ value: T; err: string }> {
  let err = "";
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
  const o = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    return { value: await f(), err };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

describe("lasp report", () => {
  it("writes a self-contained HTML page whose loss polyline has one point per metric line", async () => {
    const dir = makeRun(true);
    const out = path.join(dir, "r.html");
    const { value: code } = await quiet(() => command.run([dir, "-o", out]));
    expect(code).toBe(0);
    const html = fs.readFileSync(out, "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // no JS, no network
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(5); // loss, accuracy, lr, tokens/s, time, timeline
    const loss = svgs.find((s) => s.includes('aria-label="Loss"'))!;
    const pts = /<polyline[^>]*points="([^"]*)"/.exec(loss)![1]!.trim().split(/\s+/);
    expect(pts).toHaveLength(N);
    // the loss falls, so the last point is lower on the page (larger y) than the first
    expect(Number(pts[N - 1]!.split(",")[1])).toBeGreaterThan(Number(pts[0]!.split(",")[1]));
    expect(html).toContain('aria-label="Accuracy (scored positions)"');
    expect(html).toContain("rank 1");
    expect(html).toContain("in flight allgather M (layer 0)");
    expect(html).toMatch(/communication hidden behind compute[^<]*<\/th><td>\d+%/);
  });

  it("defaults to RUN_DIR/report.html and works without a timeline", async () => {
    const dir = makeRun(false);
    const { value: code } = await quiet(() => command.run([dir]));
    expect(code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "report.html"), "utf8")).toContain("No timeline.json");
  });

  it("a missing run dir or metrics file is exit 1 with a clear message; no RUN_DIR is a usage error", async () => {
    const missing = path.join(os.tmpdir(), "no-such-run-dir-xyz");
    const a = await quiet(() => command.run([missing]));
    expect(a.value).toBe(1);
    expect(a.err).toContain(`run directory ${missing} does not exist`);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "run-"));
    const b = await quiet(() => command.run([empty]));
    expect(b.value).toBe(1);
    expect(b.err).toMatch(/metrics\.jsonl not found/);
    fs.writeFileSync(path.join(empty, "metrics.jsonl"), "");
    expect((await quiet(() => command.run([empty]))).err).toMatch(/has no metric lines/);
    await expect(command.run([])).rejects.toThrow(UsageError);
    await expect(command.run(["a", "b"])).rejects.toThrow(/expected one RUN_DIR/);
  });

  it("refuses a malformed timeline, naming the event", async () => {
    const dir = makeRun(false);
    fs.writeFileSync(path.join(dir, "timeline.json"), JSON.stringify([{ rank: 0, kind: "send", t0: 0, t1: 1 }]));
    const r = await quiet(() => command.run([dir]));
    expect(r.value).toBe(1);
    expect(r.err).toMatch(/timeline\.json: event 0: kind "send" is not one of/);
  });
});

describe("timeline analysis", () => {
  const ev = parseTimeline(
    [
      [
        { rank: 0, kind: "comm_start", label: "g", layer: 1, t0: 1 },
        { rank: 0, kind: "compute", label: "a", layer: 1, t0: 1, t1: 2 },
        { rank: 0, kind: "compute", label: "b", layer: 1, t0: 1.5, t1: 2.5 },
        { rank: 0, kind: "comm_wait", label: "g", layer: 1, t0: 2.5, t1: 3 },
      ],
      [{ kind: "comm_start", label: "g", layer: 1, t0: 0, t1: 0.5 }], // rank from the list index
    ],
    "t.json",
  );
  it("pairs starts with waits and measures the hidden fraction (overlapping compute counted once)", () => {
    const spans = commSpans(ev);
    expect(spans).toEqual([
      { rank: 1, label: "g", layer: 1, t0: 0, t1: 0.5, matched: false },
      { rank: 0, label: "g", layer: 1, t0: 1, t1: 3, matched: true },
    ]);
    expect(overlapFraction(ev)).toBeCloseTo(1.5 / 2.5, 12);
    expect(overlapFraction(ev.filter((e) => e.kind === "compute"))).toBeNull();
  });
  it("ticks are round numbers covering the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97, 5)).toEqual([20, 40, 60, 80]);
  });
});
