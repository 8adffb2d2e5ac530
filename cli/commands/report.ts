// `lasp report RUN_DIR [-o report.html]`: a self-contained HTML page (inline SVG charts) from a run
// directory's metrics.jsonl and, when present, timeline.json.
import * as path from "node:path";
import { writeFileAtomic } from "../../runtime/io/atomic.ts";
import { renderReport } from "../../report/html.ts";
import { loadRun } from "../../report/load.ts";
import { UsageError, flagString, parseArgs } from "../args.ts";
import type { Command } from "../main.ts";

export const command: Command = {
  summary: "Write an HTML report (loss, accuracy, tokens/s, per-rank step timeline) of a training run.",
  usage: "lasp report RUN_DIR [-o report.html]   (default output: RUN_DIR/report.html)",
  async run(argv) {
    const args = parseArgs(argv, { out: { type: "string", alias: "o" } });
    if (args.positional.length !== 1) {
      throw new UsageError(args.positional.length === 0 ? "missing RUN_DIR" : `expected one RUN_DIR, got ${args.positional.length}`);
    }
    const dir = args.positional[0]!;
    const out = flagString(args, "out") ?? path.join(dir, "report.html");
    let html: string;
    try {
      html = renderReport(loadRun(dir));
    } catch (e) {
      process.stderr.write(`lasp report: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      writeFileAtomic(out, html);
    } catch (e) {
      process.stderr.write(`lasp report: cannot write ${out}: ${(e as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`wrote ${out}\n`);
    return 0;
  },
};
