/**
 * A child process for the fault-injection test: saves a model-like folder (manifest.json naming its
 * files with sizes and SHA-256) with writeFolderAtomically. `node save-child.mjs DIR LABEL` saves once;
 * with LOOP=1 it alternates labels A and B forever, printing 'ready' once started.
 */
import { createHash } from 'node:crypto';
import { writeFolderAtomically } from '../../src/node.js';
import { MODEL_OUTPUT } from '../../src/node.js';

export function folderFiles(label: string): Map<string, Uint8Array | string> {
  const files = new Map<string, Uint8Array>();
  const sizes: Record<string, number> = { 'weights.bin': 200_000, 'bank.bin': 120_000, 'backbone/weights.bin': 80_000, 'backbone/model.json': 300 };
  for (const [name, size] of Object.entries(sizes)) {
    const bytes = new Uint8Array(size);
    let x = label.charCodeAt(0) * 7919 + name.length;
    for (let i = 0; i < size; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    files.set(name, bytes);
  }
  const ref = (name: string) => ({ path: name, bytes: files.get(name)!.byteLength, sha256: createHash('sha256').update(files.get(name)!).digest('hex') });
  const manifest = {
    format: 'thfr-model', version: 1, label, createdAt: new Date().toISOString(), config: {},
    backbone: { architecture: 'fake', weights: 'none', taps: [] }, levels: [],
    weights: { ...ref('weights.bin'), tensors: [] },
    extraFiles: ['bank.bin', 'backbone/weights.bin', 'backbone/model.json'].map(ref),
  };
  const out = new Map<string, Uint8Array | string>(files);
  out.set('manifest.json', JSON.stringify(manifest));
  return out;
}

async function main(): Promise<void> {
  const [dir, label] = process.argv.slice(2);
  if (process.env.LOOP === '1') {
    process.stdout.write('ready\n');
    for (let i = 0; ; i++) await writeFolderAtomically(dir, folderFiles(i % 2 === 0 ? 'B' : 'A'), { kind: MODEL_OUTPUT });
  }
  await writeFolderAtomically(dir, folderFiles(label), { kind: MODEL_OUTPUT });
}

if (process.argv[1]?.endsWith('save-child.mjs')) void main();
