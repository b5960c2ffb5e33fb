#!/usr/bin/env node
import { runCli } from './cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a GPU device or worker threads of a backend could otherwise keep the process alive.
    process.exit(code);
  },
  (error) => {
    process.stderr.write(`thfr: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
