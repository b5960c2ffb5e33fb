/**
 * Output safety, shared by every save API and CLI command that writes a folder: an output path is
 * accepted only when it does not exist, is an empty folder, or holds an output of the same kind
 * (recognised by its marker file, e.g. manifest.json with format 'thfr-model'), and never when it is
 * an input folder, inside one, or a parent of one. Anything else is refused with the reason and the way out.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** A kind of output folder, recognised by a JSON marker file whose `format` field names the kind. */
export interface OutputKind {
  /** For messages: 'THFR model'. */
  label: string;
  /** The marker file inside the folder: 'manifest.json'. */
  marker: string;
  /** The marker's `format` field; undefined accepts any marker file of that name. */
  format?: string;
}


export type OutputRefusal = 'is-input' | 'inside-input' | 'contains-input' | 'not-a-folder' | 'foreign-content' | 'other-kind' | 'exists';

/** An output path that must not be written; `reason` says which rule refused it. */
export class OutputPathError extends Error {
  constructor(readonly path: string, readonly reason: OutputRefusal, message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

export interface OutputCheckOptions {
  kind: OutputKind;
  /** Folders (or files) read by the same run; the output may not be, contain or lie inside any of them. */
  inputs?: ReadonlyArray<{ path: string; flag: string }>;
  /** An existing output of the same kind may be replaced (CLI: --force; save APIs: true). */
  replace?: boolean;
  /** An existing output of the same kind is written into without replacing it (thfr predict). */
  merge?: boolean;
  /** Names the output in messages: '--out' on the CLI, the API's name otherwise. */
  flag?: string;
  /** How a user allows replacing, for the message: "pass --force to replace it". */
  replaceHint?: string;
}

/** What the output path holds now. */
export type OutputState = 'absent' | 'empty' | 'same-kind';

/** Resolves symlinks of the longest existing prefix, so that aliases of one folder compare equal. */
export async function canonicalPath(path: string): Promise<string> {
  const rest: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return resolve(path);
      rest.push(basename(current));
      current = parent;
    }
  }
}

function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The `format` of a folder's marker file: undefined without one, null when it is not readable JSON. */
async function markerFormat(dir: string, marker: string): Promise<string | null | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, marker), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const json = JSON.parse(text) as { format?: unknown } | null;
    return typeof json?.format === 'string' ? json.format : null;
  } catch {
    return null;
  }
}

function listSome(names: string[]): string {
  const shown = names.slice(0, 3).join(', ');
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/**
 * Checks that `path` may be written as an output of `options.kind`; throws OutputPathError saying why
 * not and what to do. Call it before any work starts (the CLI does, before the runtime), and again at save.
 */
export async function checkOutputPath(path: string, options: OutputCheckOptions): Promise<OutputState> {
  const { kind, flag = 'output' } = options;
  const out = await canonicalPath(path);
  const named = `${flag} ${path}`;
  for (const input of options.inputs ?? []) {
    const other = await canonicalPath(input.path);
    if (out === other) {
      throw new OutputPathError(path, 'is-input', `${named} is the same folder as ${input.flag} ${input.path}: outputs never go into an input folder; choose another ${flag}`);
    }
    if (isWithin(other, out)) {
      throw new OutputPathError(path, 'inside-input', `${named} is inside ${input.flag} ${input.path}: files written there would mix with the inputs (and be read as inputs next time); choose a ${flag} outside it`);
    }
    if (isWithin(out, other)) {
      throw new OutputPathError(path, 'contains-input', `${named} contains ${input.flag} ${input.path}: replacing it would delete the inputs; choose a ${flag} that is not a parent of it`);
    }
  }
  let info;
  try {
    info = await stat(out);
  } catch {
    return 'absent';
  }
  if (!info.isDirectory()) {
    throw new OutputPathError(path, 'not-a-folder', `${named} is a file, not a ${kind.label} folder; it is never replaced: choose a new or empty folder`);
  }
  const entries = (await readdir(out)).sort();
  if (entries.length === 0) return 'empty';
  const format = await markerFormat(out, kind.marker);
  if (format !== undefined && (kind.format === undefined || format === kind.format)) {
    if (options.replace || options.merge) return 'same-kind';
    throw new OutputPathError(path, 'exists', `${named} already holds a ${kind.label} (${kind.marker}); ${options.replaceHint ?? 'pass --force to replace it'}`);
  }
  if (typeof format === 'string') {
    throw new OutputPathError(path, 'other-kind', `${named} holds a '${format}' output (${kind.marker}), not a ${kind.label}; it is never replaced: choose a new or empty folder`);
  }
  const why = format === null ? `its ${kind.marker} is not valid JSON with a format field` : `no ${kind.marker}${kind.format ? ` with format '${kind.format}'` : ''}`;
  throw new OutputPathError(path, 'foreign-content', `${named} exists and is not a ${kind.label} folder (${why}; it holds ${listSome(entries)}); it is never replaced: choose a new or empty folder`);
}
