/** Where human-readable and machine-readable output go: stdout carries results, stderr progress. */
export interface Output {
  json: boolean;
  quiet: boolean;
  /** A human line on stdout (suppressed with --json, where only the JSON document goes to stdout). */
  line(text: string): void;
  /** A note on stderr (progress, chosen backend), suppressed with --quiet. */
  note(text: string): void;
  /** The command's result: JSON on stdout with --json. */
  result(value: unknown): void;
}

export function createOutput(json: boolean, quiet: boolean): Output {
  return {
    json,
    quiet,
    line: (text) => {
      if (!json) process.stdout.write(`${text}\n`);
    },
    note: (text) => {
      if (!quiet) process.stderr.write(`${text}\n`);
    },
    result: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
