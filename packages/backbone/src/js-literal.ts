/**
 * A parser for the data literals inside nsfwjs's minified UMD model files (`{modelTopology:{...}}` with unquoted
 * keys, `!0`/`!1` booleans, `.5` numbers; and one long base64 string). It evaluates nothing: anything other than
 * object/array/string/number/boolean/null literals is an error.
 */
export class JsLiteralError extends Error {
  override readonly name = 'JsLiteralError';
}

export function parseJsLiteral(text: string, start: number, source = 'literal'): { value: unknown; end: number } {
  let i = start;
  const fail = (what: string): never => {
    throw new JsLiteralError(`${source}: ${what} at offset ${i} (near '${text.slice(Math.max(0, i - 20), i + 20)}')`);
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const parseString = (): string => {
    const quote = text[i++];
    // Fast path for the long base64 shards: no escapes before the closing quote.
    const close = text.indexOf(quote, i);
    if (close >= 0 && text.lastIndexOf('\\', close) < i) {
      const out = text.slice(i, close);
      i = close + 1;
      return out;
    }
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++];
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++];
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'r') out += '\r';
      else if (e === 'b') out += '\b';
      else if (e === 'f') out += '\f';
      else if (e === 'u') {
        out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16));
        i += 4;
      } else out += e;
    }
  };
  const parseValue = (): unknown => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skipSpace();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skipSpace();
        let key: string;
        if (text[i] === '"' || text[i] === "'") key = parseString();
        else {
          const m = /^[A-Za-z_$][\w$]*|^\d+/.exec(text.slice(i, i + 256));
          if (!m) fail('expected a property name');
          key = m![0];
          i += key.length;
        }
        skipSpace();
        if (text[i++] !== ':') fail("expected ':'");
        obj[key] = parseValue();
        skipSpace();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skipSpace();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue());
        skipSpace();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"' || c === "'") return parseString();
    if (text.startsWith('!0', i)) {
      i += 2;
      return true;
    }
    if (text.startsWith('!1', i)) {
      i += 2;
      return false;
    }
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    const m = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m) {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail('expected a literal');
  };
  const value = parseValue();
  return { value, end: i };
}

/** Extracts the literal assigned by `<x>.exports=` inside a nsfwjs UMD file. */
export function extractUmdExport(text: string, source: string): unknown {
  const match = /\b[A-Za-z_$][\w$]*\.exports\s*=\s*(?=[{"'])/.exec(text);
  if (!match) throw new JsLiteralError(`${source}: no '<module>.exports=' literal found (not a nsfwjs UMD model file?)`);
  return parseJsLiteral(text, match.index + match[0].length, source).value;
}

/** Decodes base64 without Node's Buffer (works in browsers too). */
export function base64ToBytes(base64: string): Uint8Array {
  if (typeof atob === 'function') {
    const binary = atob(base64);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }
  throw new Error('base64ToBytes: atob is not available');
}
