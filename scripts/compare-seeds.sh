#!/usr/bin/env bash
# Runs `thfr compare` once per (seed, category) into OUT/s<seed>/<category>/ and merges every finished
# run into OUT/table.md (mean ± std over seeds, scripts/aggregate-compare.mjs). Resumable: a run that
# finished leaves OUT/s<seed>/<category>/DONE and is skipped next time, so a killed session loses at most
# the (seed, category) in progress.
#
# usage: scripts/compare-seeds.sh OUT "SEEDS" "CATEGORIES" METHODS [more thfr compare flags...]
# e.g.   scripts/compare-seeds.sh runs/seeds "0 1 2" "ad loco real-loco-coins" thfr-gl,rd4ad,patchcore,padim --backend wasm
set -uo pipefail
if [ $# -lt 4 ]; then
  echo 'usage: scripts/compare-seeds.sh OUT "SEEDS" "CATEGORIES" METHODS [thfr compare flags...]' >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$1"; seeds="$2"; categories="$3"; methods="$4"; shift 4
mkdir -p "$out"
for seed in $seeds; do
  for category in $categories; do
    dir="$out/s$seed/$category"
    if [ -f "$dir/DONE" ]; then echo "skip seed $seed $category (done)"; continue; fi
    echo "$(date -u +%H:%M:%S) seed $seed $category: thfr compare --methods $methods $*"
    # A run killed half-way left a partial folder: start that (seed, category) again from scratch.
    # (compare refuses to write into a folder it did not make, so the log goes beside it.)
    rm -rf "$dir"
    mkdir -p "$out/s$seed"
    if node "$root/packages/cli/dist/bin.js" compare --out "$dir" --categories "$category" --methods "$methods" --seed "$seed" "$@" > "$dir.log" 2>&1; then
      touch "$dir/DONE"
    else
      echo "seed $seed $category failed, see $dir.log" >&2
    fi
    finished=$(ls "$out"/s*/*/DONE 2>/dev/null | sed 's/DONE$/compare.json/')
    if [ -n "$finished" ]; then
      node "$root/scripts/aggregate-compare.mjs" $finished > "$out/table.md.tmp" && mv "$out/table.md.tmp" "$out/table.md"
    fi
  done
done
echo "$(date -u +%H:%M:%S) finished; table: $out/table.md"
