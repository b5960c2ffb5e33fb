import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
const flagsets = {
  plain: [],
  unsafe: ['--enable-unsafe-webgpu'],
  unsafeVk: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'],
  swgl: ['--enable-unsafe-swiftshader'],
};
for (const [name, extra] of Object.entries(flagsets)) {
  const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/brw/ud-'), {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...extra],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  await page.goto('about:blank');
  const r = await page.evaluate(async () => {
    const out = {};
    out.gpu = !!navigator.gpu;
    if (navigator.gpu) { const a = await navigator.gpu.requestAdapter(); out.adapter = a ? (a.info ? JSON.stringify({v: a.info.vendor, a: a.info.architecture, d: a.info.description}) : 'yes') : null; }
    const c = new OffscreenCanvas(4,4); const gl = c.getContext('webgl2'); out.webgl2 = !!gl;
    if (gl) out.renderer = gl.getParameter(gl.RENDERER);
    return out;
  });
  console.log(name, JSON.stringify(r));
  await ctx.close();
}
