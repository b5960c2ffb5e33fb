/**
 * Training checkpoints on disk: checkpoint.json (epoch, config, RNG state, losses, and per binary file
 * its size and SHA-256) + weights.bin + optimizer.bin, written crash-safely like a model folder. Loading
 * checks every field, the sizes and the checksums before any tensor is made.
 */
import { join } from 'node:path';
import { tf } from '@thfr/tensor';
import { fileRef } from '@thfr/detector';
import { readCheckedFile, readFolderJson, writeFolderAtomically } from '@thfr/detector/node';
import { FILE_REF_SPEC, TENSOR_ENTRY_SPEC, validateEach, validateFields, type ObjectSpec } from './manifest-schema.js';
import { CHECKPOINT_OUTPUT } from './output-kinds.js';
import { packTensors, unpackTensors, type PackedTensorEntry } from './tensor-pack.js';
import type { ModelFileRef } from './model-folder.js';
import type { RestorationConfig } from './config.js';
import type { TrainingCheckpoint } from './optimise.js';

export const CHECKPOINT_FORMAT = 'thfr-checkpoint';
/** Appended to a checksum mismatch of a checkpoint's binary files. */
const CORRUPT = 'the checkpoint is corrupt';
/** 2: checksums of the binary files (version 1 had none and is refused). */
export const CHECKPOINT_FORMAT_VERSION = 2;

type PackedFile = ModelFileRef & { tensors: PackedTensorEntry[] };

interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  epoch: number;
  config: TrainingCheckpoint['config'];
  randomState: number;
  lossHistory: number[];
  weights: PackedFile;
  optimizer: PackedFile;
}

const CHECKPOINT_SPEC: ObjectSpec = {
  format: 'string', version: 'integer', epoch: 'integer', config: 'object', randomState: 'number', lossHistory: 'number[]',
  weights: { ...FILE_REF_SPEC, tensors: 'array' }, optimizer: { ...FILE_REF_SPEC, tensors: 'array' },
};

async function packFile(path: string, tensors: Iterable<[string, tf.Tensor]>): Promise<{ ref: PackedFile; buffer: Uint8Array }> {
  const { entries, buffer } = await packTensors(tensors);
  return { ref: { ...(await fileRef(path, buffer)), tensors: entries }, buffer };
}

/** Saves a training checkpoint folder crash-safely (weights, Adam state, RNG, epoch, checksums). */
export async function saveCheckpoint(checkpoint: TrainingCheckpoint, dir: string): Promise<void> {
  const weights = await packFile('weights.bin', checkpoint.weights);
  const optimizer = await packFile('optimizer.bin', checkpoint.optimizer.map(({ name, tensor }) => [name, tensor] as [string, tf.Tensor]));
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_FORMAT_VERSION, epoch: checkpoint.epoch, config: checkpoint.config,
    randomState: checkpoint.randomState, lossHistory: checkpoint.lossHistory, weights: weights.ref, optimizer: optimizer.ref,
  };
  await writeFolderAtomically(dir, new Map<string, Uint8Array | string>([
    ['checkpoint.json', JSON.stringify(manifest, null, 2)], ['weights.bin', weights.buffer], ['optimizer.bin', optimizer.buffer],
  ]), { kind: CHECKPOINT_OUTPUT, who: 'saveCheckpoint' });
}

/** Reads and checks checkpoint.json: format, version and every field, naming the one that is wrong. */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, 'checkpoint.json');
  const json = (await readFolderJson(dir, 'THFR checkpoint', 'checkpoint.json')) as Partial<CheckpointManifest> | null;
  if (json?.format !== CHECKPOINT_FORMAT) throw new Error(`${path} is not a THFR checkpoint (format '${String(json?.format ?? 'missing')}', expected '${CHECKPOINT_FORMAT}')`);
  if (json.version !== CHECKPOINT_FORMAT_VERSION) {
    throw new Error(`${path} has checkpoint format version ${String(json.version)}; this @thfr/restoration reads version ${CHECKPOINT_FORMAT_VERSION}${json.version === 1 ? ' (version 1 has no checksums: start the training again)' : ''}`);
  }
  validateFields(json, CHECKPOINT_SPEC, path);
  validateEach(json.weights!.tensors, TENSOR_ENTRY_SPEC, path, 'weights.tensors');
  validateEach(json.optimizer!.tensors, TENSOR_ENTRY_SPEC, path, 'optimizer.tensors');
  return json as CheckpointManifest;
}


/** Loads a checkpoint for a trainer's `resumeFrom` (trainThfr, trainRd4ad); dispose it with disposeCheckpoint afterwards. */
export async function loadCheckpoint<C extends RestorationConfig = RestorationConfig>(dir: string): Promise<TrainingCheckpoint<C>> {
  const manifest = await readCheckpointManifest(dir);
  const manifestPath = join(dir, 'checkpoint.json');
  const weightBytes = await readCheckedFile(dir, manifest.weights, manifestPath, CORRUPT);
  const optimizerBytes = await readCheckedFile(dir, manifest.optimizer, manifestPath, CORRUPT);
  const weights = unpackTensors(manifest.weights.tensors, weightBytes, join(dir, manifest.weights.path));
  let optimizer: Map<string, tf.Tensor>;
  try {
    optimizer = unpackTensors(manifest.optimizer.tensors, optimizerBytes, join(dir, manifest.optimizer.path));
  } catch (error) {
    weights.forEach((t) => t.dispose());
    throw error;
  }
  return {
    // The method's trainer checks the config against its own before resuming (checkResumable).
    epoch: manifest.epoch, config: manifest.config as C, randomState: manifest.randomState, lossHistory: manifest.lossHistory,
    weights, optimizer: manifest.optimizer.tensors.map((e) => ({ name: e.name, tensor: optimizer.get(e.name)! })),
  };
}

export function disposeCheckpoint(checkpoint: TrainingCheckpoint<RestorationConfig>): void {
  checkpoint.weights.forEach((t) => t.dispose());
  checkpoint.optimizer.forEach(({ tensor }) => tensor.dispose());
}
