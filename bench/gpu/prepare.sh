#!/usr/bin/env bash
# Builds bench/gpu/carry/ (gitignored) for the device machine, which has no Node.js and no network:
# xz'd node and dawn.node, the webgpu package's JS, Debian's Vulkan loader + glvnd debs, and
# check.ts bundled by esbuild into one check.mjs (tfjs inside). First run: minutes (xz -9); then seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C=$ROOT/bench/gpu/carry
mkdir -p "$C/debs" "$C/webgpu"
cd "$ROOT"

NODE=$(command -v node)
if [ ! -s "$C/node.xz" ] || [ "$NODE" -nt "$C/node.xz" ]; then
  echo "prepare: compressing $NODE ($(node -v))"
  xz -9 -T2 -c "$NODE" >"$C/node.xz.tmp" && mv "$C/node.xz.tmp" "$C/node.xz"
fi
node -v >"$C/node.version"

DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
if [ ! -s "$C/dawn.node.xz" ] || [ "$DAWN" -nt "$C/dawn.node.xz" ]; then
  echo "prepare: compressing $DAWN"
  xz -9 -T2 -c "$DAWN" >"$C/dawn.node.xz.tmp" && mv "$C/dawn.node.xz.tmp" "$C/dawn.node.xz"
fi
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$C/webgpu/"

# The Vulkan loader and glvnd, as the device tool's README lists them (amd64, Debian 12).
if ! ls "$C"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  echo "prepare: downloading Vulkan loader debs"
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd "$C/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

echo "prepare: bundling bench/gpu/check.ts"
# tfjs-core is CommonJS and calls require(): give the ESM bundle a real `require`.
npx esbuild bench/gpu/check.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --log-level=warning --legal-comments=none \
  --banner:js="import { createRequire as __laspRequire } from 'node:module'; const require = __laspRequire(import.meta.url);" \
  --outfile="$C/check.mjs"

du -ab "$C" | sort -n | tail -12
TOTAL=$(du -sb "$C" | cut -f1)
echo "prepare: carry is $((TOTAL / 1048576)) MiB (limit 64 MiB with the working tree)"
if [ "$TOTAL" -gt $((56 * 1048576)) ]; then
  echo "prepare: carry too large" >&2
  exit 1
fi
