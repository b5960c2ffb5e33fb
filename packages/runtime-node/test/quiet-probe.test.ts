// Backend probing keeps Dawn's and Vulkan's native messages off the terminal: a process that starts the
// runtime without a usable GPU prints nothing on stderr, and the reason webgpu was skipped carries
// what Dawn said.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeDawnAdapter } from '../src/dawn-probe.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('quiet backend probing', () => {
  it('the probe finds no adapter when Vulkan has no driver, and captures what Dawn printed', async () => {
    const saved = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';
    try {
      const probe = await probeDawnAdapter(['backend=vulkan']);
      // undefined only where the webgpu package cannot be resolved from here.
      if (probe) expect(probe.found).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = saved;
    }
  });

  it('starting the runtime (built package) writes nothing to stderr when webgpu is skipped', () => {
    const script = "import { initRuntime } from '@thfr/runtime-node'; const r = await initRuntime({ prefer: ['webgpu', 'cpu'] }); process.stdout.write(JSON.stringify(r.skipped));";
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: '' };
    delete env.XDG_RUNTIME_DIR;
    delete env.VK_ICD_FILENAMES;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const skipped = JSON.parse(r.stdout) as Array<{ name: string; reason: string }>;
    if (skipped.some((s) => s.name === 'webgpu')) expect(r.stderr).toBe('');
  });
});
