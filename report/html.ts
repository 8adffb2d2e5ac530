// The self-contained HTML report of a run: a summary table, SVG charts of the metrics and the
// per-rank timeline of one step. Inline CSS only; no scripts, no network.
import type { StepMetrics } from "../runtime/train/metrics.ts";
import type { RunData } from "./load.ts";
import { type Series, esc, fmtNum, lineChart } from "./svg.ts";
import { overlapFraction, timelineSvg } from "./timeline.ts";

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1000px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 3px 12px 3px 0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { display: block; margin: 8px 0; background: #fff; }
svg .title { font-size: 13px; font-weight: 600; } svg .tick { font-size: 11px; fill: #555; }
svg .label { font-size: 12px; fill: #333; } svg .grid { stroke: #eee; } svg .axis { stroke: #888; }
svg .frame { fill: none; stroke: #bbb; } .note { color: #666; font-size: 12px; }
`;

function num(ms: StepMetrics[], key: string): [number, number][] {
  return ms.map((m) => [m.step, typeof m[key] === "number" ? (m[key]) : NaN]);
}

function mean(xs: number[]): number {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
}

function summary(run: RunData): string {
  const ms = run.metrics;
  const last = ms[ms.length - 1]!;
  // the first step pays for compilation and warm-up: leave it out of the averages when there are more
  const steady = ms.length > 1 ? ms.slice(1) : ms;
  const avg = (k: string) => mean(steady.map((m) => (typeof m[k] === "number" ? (m[k]) : NaN)));
  const rows: [string, string][] = [
    ["steps recorded", `${ms.length} (step ${ms[0]!.step} to ${last.step})`],
    ["loss", `${fmtNum(ms[0]!.loss)} -> ${fmtNum(last.loss)}`],
  ];
  if (typeof last.accuracy === "number") rows.push(["final accuracy", `${(last.accuracy * 100).toFixed(1)}%`]);
  const held = ms.filter((m) => typeof m["evalLoss"] === "number");
  if (held.length > 0) {
    const h = held[held.length - 1]!;
    const acc = typeof h["evalAccuracy"] === "number" ? `, accuracy ${((h["evalAccuracy"]) * 100).toFixed(1)}%` : "";
    rows.push(["held-out loss (train.eval)", `${fmtNum(held[0]!["evalLoss"] as number)} -> ${fmtNum(h["evalLoss"] as number)} (after step ${h.step + 1})${acc}`]);
  }
  rows.push(
    ["tokens/s (mean, steps after the first)", fmtNum(avg("tokensPerSec"))],
    ["step time (mean)", `${fmtNum(avg("stepSeconds"))} s: compute ${fmtNum(avg("computeSeconds"))} s, waiting for communication ${fmtNum(avg("commWaitSeconds"))} s`],
    ["bytes received per rank per step", `${fmtNum(avg("commBytesPerRank"))} B`],
  );
  if (run.timeline !== null) {
    const f = overlapFraction(run.timeline);
    if (f !== null) rows.push(["communication hidden behind compute (timeline step)", `${(f * 100).toFixed(0)}%`]);
  }
  const body = rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("\n");
  return `<table>\n${body}\n</table>`;
}

export function renderReport(run: RunData, title = `lasp run report: ${run.dir}`): string {
  const ms = run.metrics;
  const parts: string[] = [];
  parts.push(`<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>`);
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(summary(run));
  if (run.info !== null) parts.push(`<h2>Run</h2>\n<pre>${esc(JSON.stringify(run.info, null, 2))}</pre>`);
  parts.push(`<h2>Training</h2>`);
  const lossSeries: Series[] = [{ name: "loss", color: "#4c78a8", points: num(ms, "loss") }];
  if (ms.some((m) => typeof m["evalLoss"] === "number")) lossSeries.push({ name: "held-out loss", color: "#e45756", points: num(ms, "evalLoss").filter(([, y]) => Number.isFinite(y)) });
  parts.push(lineChart(lossSeries, { title: "Loss", xLabel: "step", yLabel: "loss" }));
  if (ms.some((m) => typeof m.accuracy === "number")) {
    parts.push(lineChart([{ name: "accuracy", color: "#54a24b", points: num(ms, "accuracy") }], { title: "Accuracy (scored positions)", xLabel: "step", yLabel: "accuracy", yFromZero: true }));
  }
  parts.push(lineChart([{ name: "lr", color: "#b279a2", points: num(ms, "lr") }], { title: "Learning rate", xLabel: "step", yLabel: "lr", yFromZero: true, height: 200 }));
  parts.push(`<h2>Throughput</h2>`);
  parts.push(lineChart([{ name: "tokens/s", color: "#f58518", points: num(ms, "tokensPerSec") }], { title: "Tokens per second", xLabel: "step", yLabel: "tokens/s", yFromZero: true }));
  const time: Series[] = [
    { name: "step", color: "#333", points: num(ms, "stepSeconds") },
    { name: "compute", color: "#4c78a8", points: num(ms, "computeSeconds") },
    { name: "comm wait", color: "#e45756", points: num(ms, "commWaitSeconds") },
  ];
  parts.push(lineChart(time, { title: "Time per step", xLabel: "step", yLabel: "seconds", yFromZero: true }));
  parts.push(`<h2>Timeline of one step</h2>`);
  if (run.timeline !== null && run.timeline.length > 0) {
    parts.push(timelineSvg(run.timeline));
    parts.push(`<p class="note">Top row of each rank: compute (blue) and blocked waits (red). Lower row: each collective from its start to the end of its wait (orange); where orange lies under blue, communication overlaps compute.</p>`);
  } else {
    parts.push(`<p class="note">No timeline.json in this run directory.</p>`);
  }
  parts.push(`</body>\n</html>\n`);
  return parts.join("\n");
}
