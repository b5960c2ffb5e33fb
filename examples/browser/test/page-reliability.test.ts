// The page's reliability logic, in Node (issue 14): images dropped at any time are queued until the model
// is ready and then scored in order; a model that cannot load answers each of them; a missing model is
// "model not found at URL" (404, network error, or a fallback HTML page); warm-up progress counts seconds.
import { describe, expect, it } from 'vitest';
import { ImageQueue } from '../src/image-queue.js';
import { checkModelFolder } from '../src/model-probe.js';
import { progressLabel } from '../src/status-view.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ImageQueue', () => {
  it('holds files that arrive before the model is ready, then scores them in order, then later ones as they come', async () => {
    const queued: Array<[string, number]> = [];
    const scored: string[] = [];
    const queue = new ImageQueue<string>((file, waiting) => queued.push([file, waiting]));
    queue.push('a.png');
    queue.push('b.png');
    expect(queue.size).toBe(2);
    expect(queued).toEqual([['a.png', 1], ['b.png', 2]]);
    const started = queue.start(async (file) => {
      await tick();
      scored.push(file);
    });
    queue.push('c.png'); // while a.png is being scored: waits its turn
    await started;
    expect(scored).toEqual(['a.png', 'b.png', 'c.png']);
    expect(queued.at(-1)).toEqual(['c.png', 2]);
    queue.push('d.png');
    await tick();
    await tick();
    expect(scored).toEqual(['a.png', 'b.png', 'c.png', 'd.png']);
    expect(queue.size).toBe(0);
  });

  it('a failing image does not stop the queue', async () => {
    const scored: string[] = [];
    const queue = new ImageQueue<string>();
    queue.push('bad.png');
    queue.push('good.png');
    await queue.start(async (file) => {
      if (file === 'bad.png') throw new Error('not a PNG or JPEG file');
      scored.push(file);
    });
    expect(scored).toEqual(['good.png']);
  });

  it('when the model cannot load, waiting and later files are answered with the reason', () => {
    const rejected: string[] = [];
    const queue = new ImageQueue<string>(undefined, (file, error) => rejected.push(`${file}: ${error.message}`));
    queue.push('a.png');
    queue.fail(new Error('model not found at https://x/m/'));
    queue.push('b.png');
    expect(rejected).toEqual(['a.png: model not found at https://x/m/', 'b.png: model not found at https://x/m/']);
    expect(queue.size).toBe(0);
  });
});

describe('checkModelFolder', () => {
  const base = 'https://example.org/app/model/';
  const answer = (response: Response | Error): typeof fetch => (async (url: string | URL | Request) => {
    expect(String(url)).toBe(`${base}manifest.json`);
    if (response instanceof Error) throw response;
    return response;
  }) as typeof fetch;

  it('passes when manifest.json is JSON', async () => {
    await expect(checkModelFolder(base, answer(new Response('{"format":"thfr-model"}')))).resolves.toBeUndefined();
  });
  it('a 404, a network error and an HTML fallback page all say "model not found at URL"', async () => {
    await expect(checkModelFolder(base, answer(new Response('nope', { status: 404 })))).rejects.toThrow(`model not found at ${base} (${base}manifest.json: HTTP 404)`);
    await expect(checkModelFolder(base, answer(new TypeError('Failed to fetch')))).rejects.toThrow(`model not found at ${base} (${base}manifest.json: Failed to fetch)`);
    await expect(checkModelFolder(base, answer(new Response('<!doctype html><html><body>app</body></html>')))).rejects.toThrow(
      `model not found at ${base}: ${base}manifest.json is not JSON (it starts with "<!doctype html><html><body>app</body></h")`);
  });
});

describe('progressLabel', () => {
  it('shows percentages for loading and the seconds so far while warming up', () => {
    expect(progressLabel({ type: 'progress', stage: 'model', fraction: 0.5, detail: '1.0 / 2.0 MB' })).toBe('Loading model: 1.0 / 2.0 MB (50%)');
    const warmup = { type: 'progress', stage: 'warmup', fraction: 0, detail: 'first inference' } as const;
    expect(progressLabel(warmup, 0)).toBe('Warming up: first inference (running, 0 s so far)');
    expect(progressLabel(warmup, 12_400)).toBe('Warming up: first inference (running, 12 s so far)');
    expect(progressLabel({ ...warmup, fraction: 1, detail: 'done in 3.2 s' }, 5000)).toBe('Warming up: done in 3.2 s (100%)');
  });
});
