import type { Output } from './output.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Help text; the default is shown from `default`. */
  help: string;
  default?: string | boolean;
  valueName?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  run(values: Record<string, string | boolean | undefined>, output: Output, argv: string[]): Promise<void>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  backend: { type: 'string', help: 'tensor backend: webgpu, tensorflow, wasm or cpu (default: the best available)', valueName: 'NAME' },
  json: { type: 'boolean', help: 'print the result as JSON on stdout (progress stays on stderr)' },
  quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
  verbose: { type: 'boolean', help: "say in full why each faster backend was skipped, and each webgpu kernel chosen by timing ('auto')" },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export function commandHelp(command: CommandSpec): string {
  const all = { ...command.options, ...COMMON_OPTIONS };
  const rows = Object.entries(all).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    const def = spec.default !== undefined && spec.default !== false ? ` (default: ${spec.default})` : '';
    return `  ${flag.padEnd(30)} ${spec.help}${def}`;
  });
  return [`Usage: ${command.usage}`, '', command.summary, '', 'Options:', ...rows, '', 'Examples:', ...command.examples.map((e) => `  ${e}`), ''].join('\n');
}

/** Parses a number option, naming the flag when it is not one. */
export function numberOption(values: Record<string, string | boolean | undefined>, name: string, { integer = false, min = -Infinity, max = Infinity } = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new Error(`--${name} expects ${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` >= ${min}` : ''}${Number.isFinite(max) ? ` <= ${max}` : ''}, got '${String(raw)}'`);
  }
  return value;
}

export function requiredString(values: Record<string, string | boolean | undefined>, name: string, command: string): string {
  return requireFlags(values, [name], command)[name];
}

/** The values of required string flags; names every missing one at once (the CLI adds the 'thfr <command>:' prefix). */
export function requireFlags<K extends string>(values: Record<string, string | boolean | undefined>, names: readonly K[], command: string): Record<K, string> {
  const missing = names.filter((n) => typeof values[n] !== 'string' || values[n] === '');
  if (missing.length > 0) {
    const list = missing.map((n) => `--${n}`);
    const text = list.length === 1 ? `${list[0]} is` : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]} are`;
    throw new Error(`${text} required (see thfr ${command} --help)`);
  }
  return Object.fromEntries(names.map((n) => [n, values[n] as string])) as Record<K, string>;
}
