// The runtime panel (which backend runs, why faster ones were skipped) and the loading progress bar.
import type { FromWorker } from './worker-protocol.js';
import { byId } from './dom.js';

const STAGE_LABELS = { backbone: 'Loading backbone', model: 'Loading model', warmup: 'Warming up' } as const;

export function showRuntime(message: Extract<FromWorker, { type: 'runtime' }>): void {
  byId('backend').textContent = message.backend;
  const d = message.description;
  const extra = Object.entries(d.details).map(([k, v]) => `${k}: ${String(v)}`);
  byId('backend-details').textContent = [`float${d.floatPrecision}`, `${d.kernelCount} kernels`, ...extra].join(', ');
  const skipped = byId<HTMLUListElement>('skipped');
  skipped.replaceChildren(...message.skipped.map((s) => {
    const item = document.createElement('li');
    item.textContent = `${s.name}: ${s.reason}`;
    return item;
  }));
  byId('skipped-none').hidden = message.skipped.length > 0;
}

/** The progress line: stage, detail, percentage, and for a stage without steps (warm-up) the seconds so far. */
export function progressLabel(message: Extract<FromWorker, { type: 'progress' }>, elapsedMs?: number): string {
  const running = message.stage === 'warmup' && message.fraction < 1;
  const elapsed = running && elapsedMs !== undefined ? `, ${Math.floor(elapsedMs / 1000)} s so far` : '';
  return `${STAGE_LABELS[message.stage]}: ${message.detail} (${running ? 'running' : `${Math.round(message.fraction * 100)}%`}${elapsed})`;
}

// The warm-up is one inference with no steps to report: the label counts its seconds instead.
let ticker: ReturnType<typeof setInterval> | undefined;
function stopTicker(): void {
  if (ticker !== undefined) clearInterval(ticker);
  ticker = undefined;
}

export function showProgress(message: Extract<FromWorker, { type: 'progress' }>): void {
  stopTicker();
  const bar = byId<HTMLProgressElement>('progress');
  bar.hidden = false;
  const label = byId('progress-label');
  if (message.stage === 'warmup' && message.fraction < 1) {
    bar.removeAttribute('value'); // an indeterminate bar: it moves while the kernels compile
    const started = performance.now();
    label.textContent = progressLabel(message, 0);
    ticker = setInterval(() => { label.textContent = progressLabel(message, performance.now() - started); }, 1000);
  } else {
    bar.value = message.fraction;
    label.textContent = progressLabel(message);
  }
}

export function showStatus(status: 'loading' | 'ready' | 'busy' | 'error', text: string): void {
  document.body.dataset.status = status;
  byId('status').textContent = text;
  if (status !== 'loading') {
    stopTicker();
    byId<HTMLProgressElement>('progress').hidden = true;
    byId('progress-label').textContent = '';
  }
}
