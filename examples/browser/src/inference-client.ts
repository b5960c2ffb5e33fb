// The page's side of the inference worker: starts it, forwards its events, and turns predict
// requests into promises.
import type { FromWorker, LoadRequest, ModelInfo, PredictionMessage, ToWorker } from './worker-protocol.js';

export interface InferenceEvents {
  onRuntime(message: Extract<FromWorker, { type: 'runtime' }>): void;
  onProgress(message: Extract<FromWorker, { type: 'progress' }>): void;
}

export class InferenceClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(r: PredictionMessage): void; reject(e: Error): void }>();
  private loading?: { resolve(info: ModelInfo): void; reject(e: Error): void };

  constructor(private readonly events: InferenceEvents) {
    this.worker = new Worker(new URL('./inference-worker.ts', import.meta.url), { type: 'module', name: 'thfr-inference' });
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.handle(event.data);
    this.worker.onerror = (event) => this.failAll(new Error(`inference worker failed: ${event.message || 'could not start (see the console)'}`));
  }

  /** Starts the runtime and loads the model folder at `request.modelUrl` (absolute URL). */
  load(request: Omit<LoadRequest, 'type'>): Promise<ModelInfo> {
    return new Promise((resolve, reject) => {
      this.loading = { resolve, reject };
      this.post({ type: 'load', ...request });
    });
  }

  /** Decodes and scores one image file (PNG/JPEG, or anything the browser decodes). */
  async predict(file: Blob & { name?: string }): Promise<PredictionMessage> {
    const bytes = await file.arrayBuffer();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'predict', id, name: file.name ?? 'image', bytes }, [bytes]);
    });
  }

  private post(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private handle(message: FromWorker): void {
    switch (message.type) {
      case 'runtime':
        this.events.onRuntime(message);
        break;
      case 'progress':
        this.events.onProgress(message);
        break;
      case 'ready': {
        const { type: _type, ...info } = message;
        this.loading?.resolve(info);
        this.loading = undefined;
        break;
      }
      case 'result':
        this.pending.get(message.id)?.resolve(message);
        this.pending.delete(message.id);
        break;
      case 'error': {
        const error = new Error(message.message);
        if (message.id != null) {
          this.pending.get(message.id)?.reject(error);
          this.pending.delete(message.id);
        } else {
          this.loading?.reject(error);
          this.loading = undefined;
        }
        break;
      }
    }
  }

  private failAll(error: Error): void {
    this.loading?.reject(error);
    this.loading = undefined;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
