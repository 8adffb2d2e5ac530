#!/usr/bin/env bash
# Builds bench/gpu/carry/ (gitignored) for the device machine, which has no Node.js and no network:
# xz'd node and dawn.node, the webgpu package's JS, Debian's Vulkan loader + glvnd debs, check.ts
# bundled by esbuild into one check.mjs (tfjs inside), and methods.ts's three bundles (no tsx needed).
# First run: minutes (xz -9); then seconds.
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

# The device-tag Vulkan layer (one GPU per rank on multi-GPU nodes), checked on the card by vk-tag-probe.mjs.
bash native/vulkan/build.sh "$C/vulkan" >/dev/null
cp bench/gpu/vk-tag-probe.mjs "$C/vk-tag-probe.mjs"

# tfjs-core is CommonJS and calls require(): give each ESM bundle a real `require`. Backends that are
# not carried (wasm, tfjs-node) stay external: importing one there fails with its own message.
bundle() {
  npx esbuild "$1" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --external:@tensorflow/tfjs-backend-wasm \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --log-level=warning --legal-comments=none \
    --banner:js="import { createRequire as __laspRequire } from 'node:module'; const require = __laspRequire(import.meta.url);" \
    --outfile="$2"
}
echo "prepare: bundling bench/gpu/check.ts"
bundle bench/gpu/check.ts "$C/check.mjs"
# methods.ts (RUN_MODE=methods): the main script, its rank entry, and the worker bootstrap. launch.ts
# starts workers from ./worker-entry.mjs beside itself (import.meta.url): in the bundle that is this
# folder, so the bundled rank-worker.ts goes there under that name and no worker needs tsx.
echo "prepare: bundling bench/gpu/methods.ts, methods-rank.ts, runtime/comm/threads/rank-worker.ts"
bundle bench/gpu/methods.ts "$C/methods.mjs"
bundle bench/gpu/methods-rank.ts "$C/methods-rank.mjs"
bundle runtime/comm/threads/rank-worker.ts "$C/worker-entry.mjs"
# the lasp CLI itself (RUN_MODE=cli: lasp verify / run / eval / generate --backend webgpu); its workers load
# the bundled rank module named by LASP_RANK_ENTRY
echo "prepare: bundling the lasp CLI and its rank module"
bundle bench/device-cpu/lasp-entry.ts "$C/lasp.mjs"
bundle runtime/exec/rank-entry.ts "$C/rank-entry.mjs"
grep -q 'new URL("./worker-entry.mjs", import.meta.url)' "$C/methods.mjs" || {
  echo "prepare: methods.mjs no longer starts workers from ./worker-entry.mjs (see runtime/comm/threads/launch.ts)" >&2
  exit 1
}

du -ab "$C" | sort -n | tail -12
TOTAL=$(du -sb "$C" | cut -f1)
echo "prepare: carry is $((TOTAL / 1048576)) MiB (limit 64 MiB with the working tree)"
if [ "$TOTAL" -gt $((56 * 1048576)) ]; then
  echo "prepare: carry too large" >&2
  exit 1
fi
