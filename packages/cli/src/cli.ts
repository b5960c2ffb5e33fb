import { parseArgs } from 'node:util';
import { COMMON_OPTIONS, commandHelp, type CommandSpec } from './command.js';
import { createOutput } from './output.js';
import { checkBackendName } from './runtime.js';
import { trainCommand } from './commands/train.js';
import { evalCommand } from './commands/eval.js';
import { predictCommand } from './commands/predict.js';
import { demoCommand } from './commands/demo.js';
import { benchCommand } from './commands/bench.js';
import { compareCommand } from './commands/compare.js';
import { exportOnnxCommand } from './commands/export-onnx.js';

export const COMMANDS: CommandSpec[] = [trainCommand, evalCommand, predictCommand, benchCommand, demoCommand, compareCommand, exportOnnxCommand];

export function mainHelp(): string {
  return [
    'thfr — image anomaly detection with THFR (Template-guided Hierarchical Feature Restoration, ICCV 2023)',
    '',
    'Usage: thfr <command> [options]      (thfr <command> --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary.split('. ')[0].replace(/\.$/, '')}`),
    '',
    'Common options: --backend NAME, --json, --quiet, --help',
    '',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('0.1.0\n');
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`thfr: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  const specs = { ...command.options, ...COMMON_OPTIONS };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: rest,
      options: Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, { type: s.type, ...(s.short ? { short: s.short } : {}) }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    process.stderr.write(`thfr ${name}: ${(error as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const output = createOutput(Boolean(values.json), Boolean(values.quiet));
  try {
    checkBackendName(values.backend);
    await command.run(values, output, argv);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (values.json) process.stdout.write(`${JSON.stringify({ error: message }, null, 2)}\n`);
    process.stderr.write(`thfr ${name}: error: ${message}\n`);
    if (process.env.THFR_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
