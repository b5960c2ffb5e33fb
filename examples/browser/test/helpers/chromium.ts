// Launching Debian's Chromium headless through playwright-core (no bundled browser download).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.THFR_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

// Flags that work as root in a container; no network chatter, no first-run UI. Without a GPU the GPU
// process runs WebGPU and WebGL on SwiftShader (on the CPU), whose slow first shader compilations on a
// busy machine can trip the GPU watchdog, which kills the GPU process (and the page's device with it).
const BASE_FLAGS = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-gpu-watchdog'];

export interface BrowserSession {
  page: Page;
  context: BrowserContext;
  /** Browser console lines and page errors, for diagnosing a failure. */
  log: string[];
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh profile. `webgpu: true` adds --enable-unsafe-webgpu, which headless
 * Chromium needs to offer a WebGPU adapter (SwiftShader without a GPU); without it navigator.gpu
 * finds no adapter and the app falls back to WebGL.
 */
export async function launchChromium(options: { webgpu: boolean }): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'thfr-chromium-'));
  const args = [...BASE_FLAGS, ...(options.webgpu ? ['--enable-unsafe-webgpu'] : [])];
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args, viewport: { width: 1000, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
  return {
    page,
    context,
    log,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
