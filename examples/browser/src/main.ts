// The page: reads ?model= / ?backend=, starts the inference worker, and shows results for the images
// the user drops or picks. Images are accepted from the first moment: while the model loads they wait
// in a queue and are scored, in order, once it is ready.
import './styles.css';
import { InferenceClient } from './inference-client.js';
import { readPageOptions } from './query-options.js';
import { attachImageInput } from './image-input.js';
import { ImageQueue } from './image-queue.js';
import { ResultView } from './result-view.js';
import { showProgress, showRuntime, showStatus } from './status-view.js';
import { byId } from './dom.js';
import type { PredictionMessage } from './worker-protocol.js';

/** What automated tests (and curious users, from the console) can read: the page's last result. */
interface ExampleHandle {
  backend?: string;
  lastResult?: PredictionMessage;
  warmupMs?: number;
  /** Where the backbone and the restoration network run (onnxruntime-web or tfjs). */
  networksOn?: string;
}
const handle: ExampleHandle = {};
(globalThis as { thfrExample?: ExampleHandle }).thfrExample = handle;

let ready = false;
const queue = new ImageQueue<File>(
  (file, waiting) => {
    const where = ready ? 'after the image being scored' : 'when the model is ready';
    showStatus(ready ? 'busy' : 'loading', `${file.name} will be scored ${where}${waiting > 1 ? ` (${waiting} images waiting)` : ''}.`);
  },
  (file, error) => showStatus('error', `${file.name} was not scored: the model could not be loaded (${error.message}).`),
);

async function start(): Promise<void> {
  showStatus('loading', 'Starting…');
  const input = byId<HTMLInputElement>('file');
  input.disabled = false;
  attachImageInput(byId('drop-zone'), input, (file) => queue.push(file));
  const options = readPageOptions(location, document.baseURI);
  byId('model-url').textContent = options.modelUrl;
  const client = new InferenceClient({
    onRuntime: (message) => {
      handle.backend = message.backend;
      showRuntime(message);
    },
    onProgress: showProgress,
  });
  const info = await client.load({
    modelUrl: options.modelUrl,
    backend: options.backend,
    features: options.features,
    gemm: options.gemm,
    wasmPaths: new URL('./tfjs-wasm/', document.baseURI).href,
  });
  handle.warmupMs = info.warmupMs;
  handle.networksOn = info.networksOn;
  byId('model-info').textContent = `${info.backbone}, ${info.imageSize} px, networks on ${info.networksOn}; first inference (warm-up) ${info.warmupMs.toFixed(0)} ms`;
  const view = new ResultView(info.normalStatistics);
  ready = true;
  showStatus('ready', 'Ready: drop an image or click to pick one.');

  await queue.start(async (file) => {
    showStatus('busy', `Scoring ${file.name}…${queue.size > 0 ? ` (${queue.size} more waiting)` : ''}`);
    try {
      const result = await client.predict(file);
      handle.lastResult = result;
      view.show(result);
      showStatus('ready', `Scored ${file.name}. Drop another image to score it.`);
    } catch (error) {
      // The previous image's result must not stay on screen as if it were this one's.
      view.clear();
      handle.lastResult = undefined;
      showStatus('error', `${file.name}: ${(error as Error).message}`);
    }
  });
}

start().catch((error: unknown) => {
  queue.fail(error as Error);
  showStatus('error', `Could not start: ${(error as Error).message}`);
});
