// Output safety: which output paths a save or a CLI command may write, and the message when it may not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputPath, MODEL_OUTPUT, OutputPathError, PREDICTIONS_OUTPUT } from '../src/node.js';
import { writeFolderAtomically } from '../src/node.js';

let root: string;
let data: string;
const model = (label: string) => new Map<string, string>([['manifest.json', JSON.stringify({ format: 'thfr-model', label })], ['weights.bin', label]]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thfr-guard-'));
  data = join(root, 'mvtec', 'bottle');
  await mkdir(join(data, 'train', 'good'), { recursive: true });
  await writeFile(join(data, 'train', 'good', '000.png'), 'png');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function refusal(path: string, options: Parameters<typeof checkOutputPath>[1]): Promise<OutputPathError> {
  const error = await checkOutputPath(path, options).then(() => undefined, (e: unknown) => e);
  expect(error, `${path} should be refused`).toBeInstanceOf(OutputPathError);
  return error as OutputPathError;
}

describe('checkOutputPath', () => {
  const inputs = () => [{ path: data, flag: '--data' }];

  it('accepts a new path, an empty folder, and (with replace) a previous model', async () => {
    expect(await checkOutputPath(join(root, 'models', 'new'), { kind: MODEL_OUTPUT, inputs: inputs(), flag: '--out' })).toBe('absent');
    await mkdir(join(root, 'empty'));
    expect(await checkOutputPath(join(root, 'empty'), { kind: MODEL_OUTPUT, inputs: inputs() })).toBe('empty');
    await writeFolderAtomically(join(root, 'previous'), model('A'));
    expect(await checkOutputPath(join(root, 'previous'), { kind: MODEL_OUTPUT, replace: true })).toBe('same-kind');
  });

  it('refuses the input folder, a folder inside it, a parent of it, and a symlinked alias of it', async () => {
    const flags = { kind: MODEL_OUTPUT, inputs: inputs(), flag: '--out', replace: true };
    const same = await refusal(data, flags);
    expect(same.reason).toBe('is-input');
    expect(same.message).toContain(`--out ${data} is the same folder as --data ${data}`);
    const inside = await refusal(join(data, 'test', 'maps'), flags);
    expect(inside.reason).toBe('inside-input');
    expect(inside.message).toMatch(/is inside --data .*choose a --out outside it/);
    const parent = await refusal(join(root, 'mvtec'), flags);
    expect(parent.reason).toBe('contains-input');
    expect(parent.message).toMatch(/contains --data .*replacing it would delete the inputs/);
    await symlink(data, join(root, 'alias'));
    expect((await refusal(join(root, 'alias', 'out'), flags)).reason).toBe('inside-input');
  });

  it('refuses a plain file, a foreign folder and another kind of output, even with replace', async () => {
    await writeFile(join(root, 'notes.txt'), 'keep me');
    const file = await refusal(join(root, 'notes.txt'), { kind: MODEL_OUTPUT, replace: true, flag: '--out' });
    expect(file.reason).toBe('not-a-folder');
    expect(file.message).toContain('is a file, not a THFR model folder; it is never replaced');
    await mkdir(join(root, 'photos'));
    await writeFile(join(root, 'photos', 'holiday.jpg'), 'jpg');
    const foreign = await refusal(join(root, 'photos'), { kind: MODEL_OUTPUT, replace: true, flag: '--out' });
    expect(foreign.reason).toBe('foreign-content');
    expect(foreign.message).toContain("is not a THFR model folder (no manifest.json with format 'thfr-model'; it holds holiday.jpg)");
    await mkdir(join(root, 'patchcore'));
    await writeFile(join(root, 'patchcore', 'manifest.json'), JSON.stringify({ format: 'thfr-patchcore' }));
    expect((await refusal(join(root, 'patchcore'), { kind: MODEL_OUTPUT, replace: true })).reason).toBe('other-kind');
  });

  it('refuses a previous model of the same kind without replace, saying how to replace it', async () => {
    const exists = await refusal(join(root, 'previous'), { kind: MODEL_OUTPUT, flag: '--out' });
    expect(exists.reason).toBe('exists');
    expect(exists.message).toContain('already holds a THFR model (manifest.json); pass --force to replace it');
    await writeFolderAtomically(join(root, 'maps'), new Map([['thfr-predictions.json', JSON.stringify({ format: 'thfr-predictions' })]]));
    expect(await checkOutputPath(join(root, 'maps'), { kind: PREDICTIONS_OUTPUT, merge: true })).toBe('same-kind');
  });
});

describe('writeFolderAtomically with a kind (every save API)', () => {
  it('replaces a previous model but leaves a file or a foreign folder untouched', async () => {
    await writeFolderAtomically(join(root, 'previous'), model('B'), { kind: MODEL_OUTPUT, who: 'saveModel' });
    expect(JSON.parse(await readFile(join(root, 'previous', 'manifest.json'), 'utf8')).label).toBe('B');
    await expect(writeFolderAtomically(join(root, 'photos'), model('C'), { kind: MODEL_OUTPUT, who: 'saveModel' })).rejects.toThrow(/saveModel .*photos exists and is not a THFR model folder/);
    expect(await readdir(join(root, 'photos'))).toEqual(['holiday.jpg']);
    await expect(writeFolderAtomically(join(root, 'notes.txt'), model('C'), { kind: MODEL_OUTPUT })).rejects.toThrow(OutputPathError);
    expect(await readFile(join(root, 'notes.txt'), 'utf8')).toBe('keep me');
  });
});
