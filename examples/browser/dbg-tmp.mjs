import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
const extra = (process.env.FLAGS ?? '').split(' ').filter(Boolean);
const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/brw/ud-'), {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...extra],
});
const page = ctx.pages()[0];
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
const t0 = Date.now();
await page.goto('http://127.0.0.1:8766/' + (process.env.Q ?? ''));
await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status), undefined, { timeout: 120000 });
console.log('status', await page.textContent('#status'), (Date.now() - t0) / 1000, 's', await page.textContent('#backend'), await page.textContent('#model-info'));
if (await page.evaluate(() => document.body.dataset.status) === 'ready') {
  await page.setInputFiles('#file', '/tmp/brw/hole.png');
  await page.waitForFunction(() => globalThis.thfrExample.lastResult || document.body.dataset.status === 'error', undefined, { timeout: 60000 });
  console.log('result', await page.textContent('#status'), await page.textContent('#score-raw'), await page.textContent('#timing'));
  await page.screenshot({ path: '/tmp/brw/shot.png', fullPage: true });
}
await ctx.close();
