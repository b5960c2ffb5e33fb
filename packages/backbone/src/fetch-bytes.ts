/** Download progress: bytes received so far and the total when the server said (Content-Length), else undefined. */
export type ProgressCallback = (received: number, total: number | undefined) => void;

export interface FetchBytesOptions {
  onProgress?: ProgressCallback;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
}

/** Fetches `url` into memory, streaming so that `onProgress` sees every chunk. */
export async function fetchBytes(url: string, options: FetchBytesOptions = {}): Promise<Uint8Array> {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (!doFetch) throw new Error(`fetchBytes(${url}): no fetch available in this environment`);
  const response = await doFetch(url, { signal: options.signal });
  if (!response.ok) throw new Error(`fetchBytes(${url}): HTTP ${response.status} ${response.statusText}`);
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader != null ? Number(lengthHeader) : undefined;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    options.onProgress?.(bytes.byteLength, total ?? bytes.byteLength);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.byteLength;
    options.onProgress?.(received, total);
  }
  if (total !== undefined && received !== total) throw new Error(`fetchBytes(${url}): received ${received} bytes, Content-Length said ${total} (connection cut?)`);
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
