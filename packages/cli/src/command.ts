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
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new Error(`thfr ${command}: --${name} is required (see thfr ${command} --help)`);
  return value;
}
