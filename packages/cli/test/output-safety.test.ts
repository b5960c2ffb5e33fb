// The CLI refuses unsafe output paths and bad flags before the runtime starts (no 'backend:' line),
// with one 'thfr <command>: error:' prefix, and leaves whatever was at the path untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeSyntheticCategory } from '@thfr/data/node';
import { cli, refused } from './helpers/run-cli.js';

let root: string;
let data: string;
let model: string;



beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-cli-safety-'));
  data = await writeSyntheticCategory(join(root, 'datasets'), { kind: 'ad', name: 'toy', seed: 1, trainCount: 3, testCount: 2, size: 32 });
  // A folder that looks like a previous model of ours (the check reads only the manifest's format).
  model = join(root, 'models', 'toy');
  mkdirSync(model, { recursive: true });
  writeFileSync(join(model, 'manifest.json'), JSON.stringify({
    format: 'thfr-model', version: 1, config: {}, backbone: { architecture: 'fake', weights: 'none', taps: [] }, levels: [],
    weights: { path: 'weights.bin', bytes: 0, sha256: '', tensors: [] },
  }));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('early, quiet errors', () => {
  it('names every missing required flag once, with a single prefix', async () => {
    const r = await cli('train');
    expect(r.stderr).toBe('thfr train: error: --data and --out are required (see thfr train --help)\n');
    await refused(['predict', '--data', data], '--model and --out are required');
    await refused(['eval'], '--model and --data are required');
  });

  it('a missing --data, a bad --image-size and a model that is not one fail before the runtime starts', async () => {
    await refused(['train', '--data', join(root, 'nope'), '--out', join(root, 'm1')], `--data ${join(root, 'nope')} does not exist`);
    await refused(['train', '--data', data, '--out', join(root, 'm1'), '--image-size', '100000'], /'imageSize' must be at most 2048 .*memory grows with its square/);
    await refused(['predict', '--model', join(root, 'nope'), '--data', data, '--out', join(root, 'maps')], `--model ${join(root, 'nope')} does not exist`);
    await refused(['eval', '--model', data, '--data', data], `${data} is not a saved THFR model: ${join(data, 'manifest.json')} is missing`);
    mkdirSync(join(root, 'no-backbone'));
    writeFileSync(join(root, 'no-backbone', 'manifest.json'), JSON.stringify({ format: 'thfr-model', version: 1, config: {}, levels: [], weights: {} }));
    await refused(['eval', '--model', join(root, 'no-backbone'), '--data', data], "manifest.json: field 'backbone' must be an object, but it is missing");
  });

  it('resume refuses --epochs below the checkpoint and a checkpoint without checksums', async () => {
    const ckpt = join(root, 'ckpt');
    mkdirSync(ckpt);
    const ref = { path: 'weights.bin', bytes: 0, sha256: '', tensors: [] };
    writeFileSync(join(ckpt, 'checkpoint.json'), JSON.stringify({ format: 'thfr-checkpoint', version: 2, epoch: 6, config: {}, randomState: 1, lossHistory: [1, 1, 1, 1, 1, 1], weights: ref, optimizer: { ...ref, path: 'optimizer.bin' } }));
    await refused(['train', '--data', data, '--out', join(root, 'm2'), '--resume', ckpt, '--epochs', '2'], `--epochs 2 is below the 6 epochs the checkpoint ${ckpt} has already trained; pass --epochs 6 or more`);
    writeFileSync(join(ckpt, 'checkpoint.json'), JSON.stringify({ format: 'thfr-checkpoint', version: 1, epoch: 6 }));
    await refused(['train', '--data', data, '--out', join(root, 'm2'), '--resume', ckpt], /checkpoint format version 1; .*no checksums/);
  });
});

describe('output safety', () => {
  it('train refuses --out equal to, inside or above --data, and a symlinked alias of it', async () => {
    const before = readdirSync(data).sort();
    await refused(['train', '--data', data, '--out', data, '--force'], `--out ${data} is the same folder as --data ${data}`);
    await refused(['train', '--data', data, '--out', join(data, 'model')], 'is inside --data');
    await refused(['train', '--data', data, '--out', dirname(data), '--force'], 'contains --data');
    symlinkSync(data, join(root, 'alias'));
    await refused(['train', '--data', data, '--out', join(root, 'alias')], 'is the same folder as --data');
    expect(readdirSync(data).sort()).toEqual(before);
  });

  it('train refuses a file and a foreign folder even with --force, and a previous model without --force', async () => {
    writeFileSync(join(root, 'notes.txt'), 'keep');
    await refused(['train', '--data', data, '--out', join(root, 'notes.txt'), '--force'], 'is a file, not a THFR model folder; it is never replaced');
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('keep');
    mkdirSync(join(root, 'photos'));
    writeFileSync(join(root, 'photos', 'cat.jpg'), 'x');
    await refused(['train', '--data', data, '--out', join(root, 'photos'), '--force'], "is not a THFR model folder (no manifest.json with format 'thfr-model'; it holds cat.jpg)");
    expect(readdirSync(join(root, 'photos'))).toEqual(['cat.jpg']);
    await refused(['train', '--data', data, '--out', model], `--out ${model} already holds a THFR model (manifest.json); pass --force to replace it`);
    // With --force the path check passes: the next failure is the (bad) backend name.
    const forced = await cli('train', '--data', data, '--out', model, '--force', '--backend', 'cuda');
    expect(forced.stderr).toContain('--backend must be one of');
  });

  it('train refuses a --checkpoint-dir inside --data or equal to --out', async () => {
    await refused(['train', '--data', data, '--out', join(root, 'm3'), '--checkpoint-dir', join(data, 'ckpt')], '--checkpoint-dir');
    await refused(['train', '--data', data, '--out', join(root, 'm3'), '--checkpoint-dir', join(root, 'm3')], /--out .*m3 is the same folder as --checkpoint-dir/);
  });

  it('predict refuses --out inside --data or --model, and a foreign folder; accepts its own earlier output', async () => {
    await refused(['predict', '--model', model, '--data', data, '--out', join(data, 'test', 'maps')], 'is inside --data');
    await refused(['predict', '--model', model, '--data', data, '--out', join(model, 'maps')], 'is inside --model');
    await refused(['predict', '--model', model, '--data', data, '--out', join(root, 'photos')], 'is not a thfr predict output folder');
    mkdirSync(join(root, 'maps'));
    writeFileSync(join(root, 'maps', 'thfr-predictions.json'), JSON.stringify({ format: 'thfr-predictions', version: 1, categories: [] }));
    const merged = await cli('predict', '--model', model, '--data', data, '--out', join(root, 'maps'), '--backend', 'cuda');
    expect(merged.stderr).toContain('--backend must be one of');
  });

  it('eval refuses --out inside --data', async () => {
    await refused(['eval', '--model', model, '--data', data, '--out', join(data, 'report')], 'is inside --data');
  });
});
