#!/usr/bin/env bash
# Prepares the test environment before `pnpm test` runs the packages' suites.
# The webgpu op suite (packages/runtime-node) runs WebGPU without a GPU through Dawn on SwiftShader's
# Vulkan driver, which Debian's chromium package ships. Install it when missing and we can.
set -uo pipefail
icd=/usr/lib/chromium/vk_swiftshader_icd.json
if [ -f "$icd" ]; then
  echo "test-env: SwiftShader Vulkan driver present ($icd)"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-env: $icd missing; installing Debian's chromium (ships SwiftShader's Vulkan driver)..."
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
     DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 && [ -f "$icd" ]; then
    echo "test-env: installed chromium; SwiftShader driver at $icd"
  else
    echo "test-env: could not install chromium; webgpu tests will skip (or fail where CI=true / THFR_REQUIRE_WEBGPU=1)"
  fi
else
  echo "test-env: $icd missing and not root with apt-get; webgpu tests will skip (or fail where CI=true / THFR_REQUIRE_WEBGPU=1)"
fi
exit 0
