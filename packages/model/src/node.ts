/**
 * Node-only helpers of @thfr/model: saving and loading model folders and training checkpoints on
 * disk. Every write is atomic: files go to a temporary sibling folder that replaces the target only
 * once complete, so an interrupted save never destroys the previous model.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import { deserializeModel, serializeModel, type ModelManifest } from './serialization.js';
import type { ThfrModel } from './thfr-model.js';
import type { TrainingCheckpoint } from './train.js';
import { packTensors, unpackTensors, type PackedTensorEntry } from './tensor-pack.js';

/** Writes `files` into `dir` atomically (temporary sibling folder, then rename). */
export async function writeFolderAtomically(dir: string, files: Map<string, Uint8Array | string>): Promise<void> {
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  const stamp = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const temporary = join(dirname(target), `.${basename(target)}.tmp-${stamp}`);
  const previous = join(dirname(target), `.${basename(target)}.old-${stamp}`);
  await mkdir(temporary, { recursive: true });
  try {
    for (const [name, content] of files) {
      await mkdir(dirname(join(temporary, name)), { recursive: true });
      await writeFile(join(temporary, name), content);
    }
    if (existsSync(target)) await rename(target, previous);
    await rename(temporary, target);
    if (existsSync(previous)) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    // Put the previous folder back if the swap failed half-way.
    if (existsSync(previous) && !existsSync(target)) await rename(previous, target);
    throw error;
  }
}

/**
 * Saves a model folder: manifest.json + weights.bin (+ bank.bin), plus `extraFiles` (relative paths,
 * e.g. an exported backbone under backbone/) written in the same atomic swap.
 */
export async function saveModel(model: ThfrModel, dir: string, options: { extraFiles?: Map<string, Uint8Array | string> } = {}): Promise<ModelManifest> {
  const { manifest, files } = await serializeModel(model);
  const all = new Map<string, Uint8Array | string>([...(options.extraFiles ?? []), ...files]);
  all.set('manifest.json', JSON.stringify(manifest, null, 2));
  await writeFolderAtomically(dir, all);
  return manifest;
}

/** Reads a model's manifest without loading weights (to find which backbone it needs). */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`${dir} is not a saved THFR model: ${path} is missing`);
  }
  try {
    return JSON.parse(text) as ModelManifest;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Loads a model folder written by saveModel, with the backbone it was trained with. */
export async function loadModel(dir: string, backbone: FeatureExtractor): Promise<ThfrModel> {
  const manifest = await readModelManifest(dir);
  return deserializeModel(manifest, async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch {
      throw new Error(`${join(dir, path)} is missing (named in ${join(dir, 'manifest.json')})`);
    }
  }, backbone, dir);
}

interface CheckpointManifest {
  format: 'thfr-checkpoint';
  version: 1;
  epoch: number;
  config: TrainingCheckpoint['config'];
  randomState: number;
  lossHistory: number[];
  weights: PackedTensorEntry[];
  optimizer: PackedTensorEntry[];
}

/** Saves a training checkpoint folder atomically (weights, Adam state, RNG, epoch). */
export async function saveCheckpoint(checkpoint: TrainingCheckpoint, dir: string): Promise<void> {
  const weights = await packTensors(checkpoint.weights);
  const optimizer = await packTensors(checkpoint.optimizer.map(({ name, tensor }) => [name, tensor] as [string, tf.Tensor]));
  const manifest: CheckpointManifest = {
    format: 'thfr-checkpoint', version: 1, epoch: checkpoint.epoch, config: checkpoint.config,
    randomState: checkpoint.randomState, lossHistory: checkpoint.lossHistory, weights: weights.entries, optimizer: optimizer.entries,
  };
  await writeFolderAtomically(dir, new Map<string, Uint8Array | string>([
    ['checkpoint.json', JSON.stringify(manifest, null, 2)], ['weights.bin', weights.buffer], ['optimizer.bin', optimizer.buffer],
  ]));
}

/** Loads a checkpoint for `trainThfr({ resumeFrom })`; dispose it with disposeCheckpoint afterwards. */
export async function loadCheckpoint(dir: string): Promise<TrainingCheckpoint> {
  const path = join(dir, 'checkpoint.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as CheckpointManifest;
  if (manifest.format !== 'thfr-checkpoint' || manifest.version !== 1) throw new Error(`${path} is not a THFR checkpoint (version 1)`);
  const weights = unpackTensors(manifest.weights, new Uint8Array(await readFile(join(dir, 'weights.bin'))), join(dir, 'weights.bin'));
  const optimizer = unpackTensors(manifest.optimizer, new Uint8Array(await readFile(join(dir, 'optimizer.bin'))), join(dir, 'optimizer.bin'));
  return {
    epoch: manifest.epoch, config: manifest.config, randomState: manifest.randomState, lossHistory: manifest.lossHistory,
    weights, optimizer: manifest.optimizer.map((e) => ({ name: e.name, tensor: optimizer.get(e.name)! })),
  };
}

export function disposeCheckpoint(checkpoint: TrainingCheckpoint): void {
  checkpoint.weights.forEach((t) => t.dispose());
  checkpoint.optimizer.forEach(({ tensor }) => tensor.dispose());
}
