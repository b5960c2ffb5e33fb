// Before loading anything, the page checks that the model folder exists: a missing folder (404) or a
// static server's fallback page (200 with HTML for every path) is "model not found at URL", not a
// JSON parse error of that page or a failure of the backbone below it.

/** Throws `model not found at BASE ...` unless BASE/manifest.json answers with JSON. */
export async function checkModelFolder(base: string, fetchFn: typeof fetch = globalThis.fetch): Promise<void> {
  const url = `${base}manifest.json`;
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (error) {
    throw new Error(`model not found at ${base} (${url}: ${(error as Error).message})`);
  }
  if (!response.ok) throw new Error(`model not found at ${base} (${url}: HTTP ${response.status})`);
  const text = await response.text();
  try {
    JSON.parse(text);
  } catch {
    throw new Error(`model not found at ${base}: ${url} is not JSON (it starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
}
