/**
 * Checks of the paths a command reads and writes, run before the tensor runtime starts so that a wrong
 * path fails at once: inputs must exist, and outputs go through @thfr/model's checkOutputPath (never an
 * input folder, inside or above one; never a file or a foreign folder; a previous output only with --force).
 */
import { stat } from 'node:fs/promises';
import { checkOutputPath, type OutputKind, type OutputState } from '@thfr/model/node';

/** Throws unless `path` (given as `flag`) is an existing folder. */
export async function requireFolder(path: string, flag: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`${flag} ${path} does not exist`);
  }
  if (!info.isDirectory()) throw new Error(`${flag} ${path} is a file, expected a folder`);
}

export interface OutputFlags {
  /** The output folder and its flag ('--out'). */
  path: string;
  flag: string;
  kind: OutputKind;
  /** Everything the command reads, with its flag; undefined paths are skipped. */
  inputs: Array<{ path: string | undefined; flag: string }>;
  force?: boolean;
  merge?: boolean;
}

/** checkOutputPath with the CLI's flags in the messages. */
export async function checkOutputFlag(o: OutputFlags): Promise<OutputState> {
  return checkOutputPath(o.path, {
    kind: o.kind,
    flag: o.flag,
    inputs: o.inputs.filter((i): i is { path: string; flag: string } => typeof i.path === 'string' && i.path !== ''),
    replace: o.force,
    merge: o.merge,
    replaceHint: 'pass --force to replace it',
  });
}
