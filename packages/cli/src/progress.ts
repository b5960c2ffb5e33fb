/**
 * Progress bars on stderr. On a terminal the bar redraws in place; elsewhere (CI logs, pipes) it
 * prints a line at most every 10% so logs stay short. `--json` runs pass quiet = true.
 */
export class ProgressBar {
  private started = performance.now();
  private lastPrintedDecile = -1;
  private lastDraw = 0;

  constructor(private readonly label: string, private readonly quiet = false, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(done: number, total: number, detail = ''): void {
    if (this.quiet || total <= 0) return;
    const fraction = Math.min(1, done / total);
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
    const text = `${this.label} ${done}/${total} ${(fraction * 100).toFixed(0)}%${detail ? ` ${detail}` : ''} ${formatDuration(elapsed)} elapsed${done < total && Number.isFinite(eta) ? `, ETA ${formatDuration(eta)}` : ''}`;
    if (this.stream.isTTY) {
      const now = performance.now();
      if (now - this.lastDraw < 100 && done < total) return;
      this.lastDraw = now;
      const width = 24;
      const filled = Math.round(fraction * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      if (done >= total) this.stream.write('\n');
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile > this.lastPrintedDecile || done >= total) {
        if (done >= total && this.lastPrintedDecile === 10) return;
        this.lastPrintedDecile = done >= total ? 10 : decile;
        this.stream.write(`${text}\n`);
      }
    }
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60 ? `${m}m${String(s).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
