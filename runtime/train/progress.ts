// Training progress for people: on a TTY one bar line rewritten in place (step/total, loss, tokens/s,
// comm MB/step, ETA); otherwise plain lines every k steps, so logs stay readable.

export interface ProgressSink {
  write(s: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressUpdate {
  /** steps completed so far (1 after the first step) */
  readonly done: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly tokensPerSec: number;
  /** bytes this rank received in the last step */
  readonly commBytesPerStep: number;
  /** held-out loss (train.eval), on the steps it was measured */
  readonly evalLoss?: number;
  readonly evalAccuracy?: number;
}

export interface ProgressOptions {
  readonly out?: ProgressSink;
  /** non-TTY: print every k steps (and the last); default 10 */
  readonly every?: number;
  /** steps already done when this run started (resume): ETA counts only this run's pace */
  readonly startStep?: number;
  /** clock in seconds (tests) */
  readonly now?: () => number;
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function fmtRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}

/** The text after the bar: shared by the TTY and plain forms. */
export function statusText(u: ProgressUpdate, total: number, etaSeconds: number): string {
  const acc = u.accuracy !== undefined ? ` acc ${(u.accuracy * 100).toFixed(1)}%` : "";
  const held =
    u.evalLoss !== undefined ? ` held-out ${u.evalLoss.toFixed(4)}${u.evalAccuracy !== undefined ? ` acc ${(u.evalAccuracy * 100).toFixed(1)}%` : ""}` : "";
  return (
    `step ${u.done}/${total} loss ${u.loss.toFixed(4)}${acc}${held} ${fmtRate(u.tokensPerSec)} tok/s ` +
    `comm ${(u.commBytesPerStep / 1e6).toFixed(2)} MB/step ETA ${formatEta(etaSeconds)}`
  );
}

export function bar(done: number, total: number, width: number): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const full = Math.round(frac * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}]`;
}

export class Progress {
  private readonly out: ProgressSink;
  private readonly every: number;
  private readonly startStep: number;
  private readonly now: () => number;
  private readonly t0: number;
  private lastLen = 0;
  private open = false;

  constructor(readonly total: number, opts: ProgressOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.every = Math.max(1, opts.every ?? 10);
    this.startStep = opts.startStep ?? 0;
    this.now = opts.now ?? (() => performance.now() / 1000);
    this.t0 = this.now();
  }

  update(u: ProgressUpdate): void {
    const ran = u.done - this.startStep;
    const eta = ran > 0 ? ((this.now() - this.t0) / ran) * (this.total - u.done) : NaN;
    const text = statusText(u, this.total, eta);
    if (this.out.isTTY === true) {
      const cols = this.out.columns ?? 100;
      let line = `${bar(u.done, this.total, 20)} ${text}`;
      if (line.length > cols - 1) line = line.slice(0, cols - 1);
      this.out.write(`\r${line}${" ".repeat(Math.max(0, this.lastLen - line.length))}`);
      this.lastLen = line.length;
      this.open = true;
      // a held-out measurement stays on screen: the bar goes on below it
      if (u.evalLoss !== undefined && u.done < this.total) this.finish();
    } else if (u.done % this.every === 0 || u.done === this.total || u.done === this.startStep + 1 || u.evalLoss !== undefined) {
      this.out.write(text + "\n");
    }
  }

  /** End the bar line (TTY) so later output starts on a fresh line. */
  finish(): void {
    if (this.open) this.out.write("\n");
    this.open = false;
    this.lastLen = 0;
  }
}
