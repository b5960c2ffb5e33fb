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

export function showProgress(message: Extract<FromWorker, { type: 'progress' }>): void {
  const bar = byId<HTMLProgressElement>('progress');
  bar.hidden = false;
  bar.value = message.fraction;
  byId('progress-label').textContent = `${STAGE_LABELS[message.stage]}: ${message.detail} (${Math.round(message.fraction * 100)}%)`;
}

export function showStatus(status: 'loading' | 'ready' | 'busy' | 'error', text: string): void {
  document.body.dataset.status = status;
  byId('status').textContent = text;
  if (status !== 'loading') {
    byId<HTMLProgressElement>('progress').hidden = true;
    byId('progress-label').textContent = '';
  }
}
