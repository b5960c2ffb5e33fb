#!/usr/bin/env bash
# The project's test command (README, .ci/run): prepares the environment, runs every package's
# vitest suite through turbo (one package at a time: the machines have 2 cores), then prints one
# summary line over all packages.
set -uo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
bash scripts/test-env.sh
rm -f packages/*/test-results/vitest.json examples/*/test-results/vitest.json
npx turbo run test --concurrency=1 --continue
status=$?
node scripts/test-summary.mjs
summary=$?
exit $(( status != 0 ? status : summary ))
