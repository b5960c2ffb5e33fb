// Images the user drops or picks at any time: before the model is ready they wait here, in order, and
// are scored one after another once it is; if the model cannot load, each is answered with why.
export class ImageQueue<F> {
  private readonly waiting: F[] = [];
  private handler?: (file: F) => Promise<void>;
  private failure?: Error;
  private draining = false;

  /**
   * @param onQueued called when a file has to wait (the model is loading, or another image is being scored), with its place in line.
   * @param onRejected called for a file that arrives after the model failed to load.
   */
  constructor(
    private readonly onQueued: (file: F, waiting: number) => void = () => undefined,
    private readonly onRejected: (file: F, error: Error) => void = () => undefined,
  ) {}

  /** Files waiting for their turn. */
  get size(): number {
    return this.waiting.length;
  }

  push(file: F): void {
    if (this.failure) {
      this.onRejected(file, this.failure);
      return;
    }
    this.waiting.push(file);
    if (!this.handler || this.draining) this.onQueued(file, this.waiting.length);
    void this.drain();
  }

  /** The model is ready: scores what waited (in order), then every later file as it comes. */
  start(handler: (file: F) => Promise<void>): Promise<void> {
    this.handler = handler;
    return this.drain();
  }

  /** The model will never be ready: files that waited, and later ones, are rejected with `error`. */
  fail(error: Error): void {
    this.failure = error;
    for (const file of this.waiting.splice(0)) this.onRejected(file, error);
  }

  private async drain(): Promise<void> {
    if (!this.handler || this.draining) return;
    this.draining = true;
    try {
      for (let file = this.waiting.shift(); file !== undefined; file = this.waiting.shift()) {
        await this.handler(file).catch(() => undefined); // the handler reports its own errors
      }
    } finally {
      this.draining = false;
    }
  }
}
