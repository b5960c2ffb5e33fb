#!/usr/bin/env bash
# Adds onnxruntime-node to .gpu for gpu-checks' 'onnx' section (the one graph on onnxruntime's WebGPU execution
# provider), after ../shared/device/prepare.sh packages/cli/bench/gpu-checks.ts: re-bundles gpu-checks with
# onnxruntime-node left external (its binding is a native .node file esbuild cannot bundle) and carries the package
# with its native library xz-compressed (~13 MB of the 64 MiB a device run carries). On the device, before run.sh:
#   xz -dc .gpu/libonnxruntime.so.1.xz > .gpu/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
set -euo pipefail
top=$(git rev-parse --show-toplevel); cd "$top"
[ -f .gpu/run.sh ] || { echo "run ../shared/device/prepare.sh packages/cli/bench/gpu-checks.ts first" >&2; exit 1; }
ort=$(find node_modules/.pnpm -maxdepth 4 -path '*/node_modules/onnxruntime-node/package.json' -print -quit)
[ -n "$ort" ] || { echo "onnxruntime-node is not installed in the workspace (pnpm install)" >&2; exit 1; }
ort=$(dirname "$ort")
# The onnxruntime-common that this onnxruntime-node resolves (pnpm links it beside the package).
common=$(realpath "$(dirname "$ort")/onnxruntime-common")
[ -f "$common/package.json" ] || { echo "no onnxruntime-common beside $ort" >&2; exit 1; }
native=bin/napi-v6/linux/x64
rm -rf .gpu/node_modules/onnxruntime-node .gpu/node_modules/onnxruntime-common
mkdir -p ".gpu/node_modules/onnxruntime-node/$native" .gpu/node_modules/onnxruntime-common
cp -r "$ort/dist" "$ort/package.json" .gpu/node_modules/onnxruntime-node/
cp "$ort/$native/onnxruntime_binding.node" ".gpu/node_modules/onnxruntime-node/$native/"
xz -T0 -6 -c "$ort/$native/libonnxruntime.so.1" > .gpu/libonnxruntime.so.1.xz
cp -r "$common/dist" "$common/package.json" .gpu/node_modules/onnxruntime-common/
npx --yes esbuild@0.25.12 packages/cli/bench/gpu-checks.ts --bundle --platform=node --format=esm --main-fields=module,main \
  --external:webgpu --external:onnxruntime-node \
  --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);" \
  --outfile=.gpu/gpu-checks.mjs --log-level=warning
du -sh .gpu/libonnxruntime.so.1.xz .gpu/node_modules/onnxruntime-node .gpu/node_modules/onnxruntime-common
