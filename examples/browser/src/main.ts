// The page: reads ?model= / ?backend=, starts the inference worker, and shows results for the images
// the user drops or picks.
import './styles.css';
import { InferenceClient } from './inference-client.js';
import { readPageOptions } from './query-options.js';
import { attachImageInput } from './image-input.js';
import { ResultView } from './result-view.js';
import { showProgress, showRuntime, showStatus } from './status-view.js';
import { byId } from './dom.js';
import type { PredictionMessage } from './worker-protocol.js';

/** What automated tests (and curious users, from the console) can read: the page's last result. */
interface ExampleHandle {
  backend?: string;
  lastResult?: PredictionMessage;
  warmupMs?: number;
}
const handle: ExampleHandle = {};
(globalThis as { thfrExample?: ExampleHandle }).thfrExample = handle;

async function start(): Promise<void> {
  showStatus('loading', 'Starting…');
  const options = readPageOptions(location, document.baseURI);
  byId('model-url').textContent = options.modelUrl;
  const client = new InferenceClient({
    onRuntime: (message) => {
      handle.backend = message.backend;
      showRuntime(message);
    },
    onProgress: showProgress,
  });
  const wasmPaths = new URL('./tfjs-wasm/', document.baseURI).href;
  const info = await client.load(options.modelUrl, wasmPaths, options.backend);
  handle.warmupMs = info.warmupMs;
  byId('model-info').textContent = `${info.backbone}, ${info.imageSize} px; first inference (warm-up) ${info.warmupMs.toFixed(0)} ms`;
  const view = new ResultView(info.normalStatistics);
  const input = byId<HTMLInputElement>('file');
  input.disabled = false;
  showStatus('ready', 'Ready: drop an image or click to pick one.');

  attachImageInput(byId('drop-zone'), input, async (file) => {
    showStatus('busy', `Scoring ${file.name}…`);
    try {
      const result = await client.predict(file);
      handle.lastResult = result;
      view.show(result);
      showStatus('ready', `Scored ${file.name}. Drop another image to score it.`);
    } catch (error) {
      showStatus('error', `${file.name}: ${(error as Error).message}`);
    }
  });
}

start().catch((error: unknown) => showStatus('error', `Could not start: ${(error as Error).message}`));
