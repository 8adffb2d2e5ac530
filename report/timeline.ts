// The per-rank timeline of one step as SVG: compute bars, communication in flight (comm_start to the
// end of its matching comm_wait) on a second row, and blocked waits in red, so overlap is visible.
import type { TimelineEvent } from "./load.ts";
import { esc, fmtNum, niceTicks } from "./svg.ts";

export interface CommSpan {
  readonly rank: number;
  readonly label: string;
  readonly layer: number | null;
  readonly t0: number;
  readonly t1: number;
  /** false when no comm_wait followed the start (drawn to the start's own t1) */
  readonly matched: boolean;
}

/** Pair each comm_start with the first later comm_wait of the same rank, label and layer. */
export function commSpans(events: readonly TimelineEvent[]): CommSpan[] {
  const waits = events.filter((e) => e.kind === "comm_wait").sort((a, b) => a.t0 - b.t0);
  const used = new Set<TimelineEvent>();
  const spans: CommSpan[] = [];
  for (const s of events.filter((e) => e.kind === "comm_start").sort((a, b) => a.t0 - b.t0)) {
    const w = waits.find((x) => !used.has(x) && x.rank === s.rank && x.label === s.label && x.layer === s.layer && x.t1 >= s.t0);
    if (w !== undefined) used.add(w);
    spans.push({ rank: s.rank, label: s.label, layer: s.layer, t0: s.t0, t1: w?.t1 ?? s.t1, matched: w !== undefined });
  }
  return spans;
}

const COLORS = { compute: "#4c78a8", comm: "#f58518", wait: "#e45756" } as const;

export function timelineSvg(events: readonly TimelineEvent[], width = 960): string {
  const ranks = [...new Set(events.map((e) => e.rank))].sort((a, b) => a - b);
  const spans = commSpans(events);
  const tMin = Math.min(0, ...events.map((e) => e.t0));
  let tMax = Math.max(...events.map((e) => e.t1), ...spans.map((s) => s.t1));
  if (!(tMax > tMin)) tMax = tMin + 1;
  const m = { l: 70, r: 16, t: 40, b: 36 };
  const rowH = 16;
  const laneH = 2 * rowH + 12;
  const H = m.t + ranks.length * laneH + m.b;
  const sx = (t: number) => m.l + ((t - tMin) / (tMax - tMin)) * (width - m.l - m.r);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" role="img" aria-label="timeline of one step">`);
  out.push(`<text x="${width / 2}" y="18" text-anchor="middle" class="title">One training step per rank (seconds)</text>`);
  const legend: [string, string][] = [["compute", COLORS.compute], ["communication in flight", COLORS.comm], ["waiting for communication", COLORS.wait]];
  legend.forEach(([name, color], i) => {
    out.push(`<rect x="${m.l + i * 210}" y="26" width="12" height="8" fill="${color}"/>`);
    out.push(`<text x="${m.l + i * 210 + 16}" y="34" class="tick">${name}</text>`);
  });
  for (const t of niceTicks(tMin, tMax, 8)) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" class="grid"/>`);
    out.push(`<text x="${x}" y="${H - m.b + 16}" text-anchor="middle" class="tick">${fmtNum(t)}</text>`);
  }
  const bar = (x0: number, x1: number, y: number, h: number, color: string, tip: string, opacity = 1) =>
    `<rect x="${sx(x0).toFixed(2)}" y="${y}" width="${Math.max(0.8, sx(x1) - sx(x0)).toFixed(2)}" height="${h}" fill="${color}" fill-opacity="${opacity}" stroke="#fff" stroke-width="0.6" class="ev"><title>${esc(tip)}</title></rect>`;
  const tipOf = (kind: string, label: string, layer: number | null, t0: number, t1: number) =>
    `${kind} ${label}${layer !== null ? ` (layer ${layer})` : ""}: ${fmtNum(t0)}..${fmtNum(t1)} s (${fmtNum(t1 - t0)} s)`;
  ranks.forEach((r, i) => {
    const y = m.t + i * laneH + 4;
    out.push(`<text x="${m.l - 8}" y="${y + rowH}" text-anchor="end" class="label">rank ${r}</text>`);
    out.push(`<text x="${m.l - 8}" y="${y + 2 * rowH + 2}" text-anchor="end" class="tick">comm</text>`);
    for (const e of events) {
      if (e.rank !== r || e.kind === "comm_start") continue;
      const color = e.kind === "compute" ? COLORS.compute : COLORS.wait;
      out.push(bar(e.t0, e.t1, y, rowH, color, tipOf(e.kind === "compute" ? "compute" : "wait", e.label, e.layer, e.t0, e.t1)));
    }
    for (const s of spans) {
      if (s.rank !== r) continue;
      out.push(bar(s.t0, s.t1, y + rowH + 3, rowH - 4, COLORS.comm, tipOf("in flight", s.label, s.layer, s.t0, s.t1), s.matched ? 0.85 : 0.4));
    }
  });
  out.push(`<text x="${(m.l + width - m.r) / 2}" y="${H - 6}" text-anchor="middle" class="label">time since the step started (s)</text>`);
  out.push("</svg>");
  return out.join("\n");
}

/** Fraction of communication in-flight time that overlaps the same rank's compute (1 = fully hidden). */
export function overlapFraction(events: readonly TimelineEvent[]): number | null {
  let flight = 0;
  let hidden = 0;
  for (const s of commSpans(events)) {
    flight += s.t1 - s.t0;
    // union of this rank's compute intervals clipped to the span
    const iv = events
      .filter((e) => e.rank === s.rank && e.kind === "compute" && e.t1 > s.t0 && e.t0 < s.t1)
      .map((e) => [Math.max(e.t0, s.t0), Math.min(e.t1, s.t1)] as const)
      .sort((a, b) => a[0] - b[0]);
    let end = -Infinity;
    for (const [a, b] of iv) {
      const from = Math.max(a, end);
      if (b > from) hidden += b - from;
      end = Math.max(end, b);
    }
  }
  return flight > 0 ? hidden / flight : null;
}
