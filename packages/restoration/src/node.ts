/**
 * @thfr/restoration/node — restoration model folders and training checkpoints on disk: crash-safe writes
 * (@thfr/detector/node's atomic folder swap, refusing to replace anything but the same kind of output) and
 * reads that check every field, size and checksum before a tensor is made.
 */
export { writeModelFolder, readModelFolderManifest, folderFileReader } from './model-folder-files.js';
export { saveCheckpoint, loadCheckpoint, disposeCheckpoint, readCheckpointManifest, CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION } from './checkpoint-files.js';
export { MODEL_OUTPUT, CHECKPOINT_OUTPUT } from './output-kinds.js';
