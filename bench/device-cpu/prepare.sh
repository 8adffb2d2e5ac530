#!/usr/bin/env bash
# Builds bench/device-cpu/carry/ (gitignored): what the lent machine needs to run lasp and the CPU benchmarks
# on its 16 idle cores (it has no Node.js and no network): xz'd node, esbuild bundles of the lasp CLI, its
# rank module and worker bootstrap, bench/methods.ts + its rank module, bench/kernels.ts, and the wasm
# backend's .wasm files (found through LASP_WASM_DIR). run.sh runs them there. Seconds after the first run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C=$ROOT/bench/device-cpu/carry
mkdir -p "$C/wasm"
cd "$ROOT"

NODE=$(command -v node)
if [ -s bench/gpu/carry/node.xz ] && [ bench/gpu/carry/node.xz -nt "$NODE" ]; then
  cp bench/gpu/carry/node.xz "$C/node.xz"
elif [ ! -s "$C/node.xz" ] || [ "$NODE" -nt "$C/node.xz" ]; then
  echo "prepare: compressing $NODE ($(node -v))"
  xz -9 -T2 -c "$NODE" >"$C/node.xz.tmp" && mv "$C/node.xz.tmp" "$C/node.xz"
fi
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm "$C/wasm/"

# tfjs is CommonJS and its wasm glue reads require, __dirname and __filename: give each ESM bundle real ones.
# Backends that are not carried (webgpu, tfjs-node) stay external: asking for one there fails with its message.
bundle() {
  npx esbuild "$1" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --external:@tensorflow/tfjs-backend-webgpu \
    --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:'*.node' --log-level=error --legal-comments=none \
    --banner:js="import { createRequire as __laspRequire } from 'node:module'; import { fileURLToPath as __laspPath } from 'node:url'; import { dirname as __laspDir } from 'node:path'; const require = __laspRequire(import.meta.url); const __filename = __laspPath(import.meta.url); const __dirname = __laspDir(__filename);" \
    --outfile="$2"
}
echo "prepare: bundling the lasp CLI, rank modules, worker bootstrap, benches"
bundle bench/device-cpu/lasp-entry.ts "$C/lasp.mjs"
bundle runtime/exec/rank-entry.ts "$C/rank-entry.mjs"
bundle runtime/comm/threads/rank-worker.ts "$C/worker-entry.mjs"
bundle bench/methods.ts "$C/methods.mjs"
bundle bench/lib/rank-bench.ts "$C/rank-bench.mjs"
bundle bench/kernels.ts "$C/kernels.mjs"
grep -q 'new URL("./worker-entry.mjs", import.meta.url)' "$C/lasp.mjs" || {
  echo "prepare: lasp.mjs no longer starts workers from ./worker-entry.mjs (see runtime/comm/threads/launch.ts)" >&2
  exit 1
}
du -ab "$C" | sort -n | tail -12
TOTAL=$(du -sb "$C" | cut -f1)
echo "prepare: carry is $((TOTAL / 1048576)) MiB (limit 64 MiB with the working tree)"
[ "$TOTAL" -le $((56 * 1048576)) ] || { echo "prepare: carry too large" >&2; exit 1; }
