#!/usr/bin/env bash
# GPU check on the lent machine (device tool, repo root, carry=bench/gpu/carry): unpacks node + Dawn,
# installs the Vulkan loader, finds the NVIDIA ICD, probes, runs check.mjs (RUN_MODE=tune: tune.ts; RUN_MODE=fused:
# the attention kernels with the fused WGSL kernels off, then on;
# RUN_MODE=methods: methods.mjs, lasp2 vs lasp1 vs ring through plan + executor, < 4.5 min;
# RUN_MODE=next: the device-tag layer probe, fused (90 s each), then methods in one call, < 9 min;
# RUN_MODE=teardown: how 4 worker ranks end per LASP_DAWN_MAIN, 3 x 3 processes, then a block sweep, ~2.5 min); < 6 min.
# Locally (lavapipe): LASP_WEBGPU_SOFTWARE=1 SKIP_DEBS=1 VK_DRIVER_FILES=<icd.json> LD_LIBRARY_PATH=<loader dir> bench/gpu/run.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
C=$HERE/carry
W=${LASP_GPU_WORK:-/tmp/lasp-gpu}
OUT=${OUT:-$HERE/out}
mkdir -p "$OUT" "$W/node_modules/webgpu/dist/linux-x64"
exec > >(tee "$OUT/run.log") 2>&1
T0=$(date +%s)
echo "== $(date -u +%FT%TZ) $(uname -srm) $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-}") glibc $(ldd --version 2>&1 | head -1 | grep -o '[0-9.]*$')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv
ls -l /dev/nvidia* /dev/dri 2>&1 | head -12

echo "== unpack"
xz -dc "$C/node.xz" >"$W/node" && chmod +x "$W/node"
xz -dc "$C/dawn.node.xz" >"$W/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$C/webgpu/index.js" "$C/webgpu/package.json" "$W/node_modules/webgpu/"
cp "$C/check.mjs" "$W/check.mjs"
for f in methods.mjs methods-rank.mjs worker-entry.mjs vk-tag-probe.mjs lasp.mjs rank-entry.mjs; do [ -f "$C/$f" ] && cp "$C/$f" "$W/$f"; done
"$W/node" -v || { echo "FATAL: carried node does not run here"; exit 3; }

if [ "${SKIP_DEBS:-0}" != 1 ]; then
  echo "== Vulkan loader (Debian debs, as the device README says)"
  ldconfig -p | grep -E 'libvulkan|libGLX_nvidia|libEGL_nvidia|libnvidia-gpucomp' || echo "(none of them in ldconfig before)"
  for f in "$C"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  ldconfig -p | grep -E 'libvulkan\.so|libGLX_nvidia|libEGL_nvidia' || true
fi

echo "== Vulkan ICDs"
ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1 | grep -v '^total'
candidates=()
[ -n "${VK_DRIVER_FILES:-}" ] && candidates+=("$VK_DRIVER_FILES")
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
  /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
  [ -f "$f" ] && candidates+=("$f")
done
# Where no manifest exists, write one for each NVIDIA library that carries the Vulkan entry points.
for lib in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
  p=$(ldconfig -p | grep -o "/[^ ]*/$lib" | head -1)
  [ -z "$p" ] && p=$(ls /usr/local/nvidia/lib64/$lib 2>/dev/null | head -1)
  if [ -n "$p" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$p" >"$W/icd-$lib.json"
    candidates+=("$W/icd-$lib.json")
  fi
done
for f in "${candidates[@]}"; do echo "candidate ICD: $f: $(tr -d '\n ' <"$f" | head -c 200)"; done
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}

echo "== adapter probe"
cd "$W"
ICD=""
for f in "${candidates[@]}"; do
  if VK_DRIVER_FILES=$f VK_ICD_FILENAMES=$f timeout 60 ./node check.mjs --only probe --out "$OUT" --label probe; then
    ICD=$f
    break
  fi
  echo "-- no adapter with $f; loader debug:"
  VK_DRIVER_FILES=$f VK_ICD_FILENAMES=$f VK_LOADER_DEBUG=error,warn,driver LASP_WEBGPU_FLAGS=verbose=1 \
    timeout 60 ./node check.mjs --only probe --out "$OUT" --label probe 2>&1 | grep -v '^$' | head -40
done
if [ -z "$ICD" ]; then
  echo "FATAL: no WebGPU adapter with any ICD candidate (${#candidates[@]} tried)"
  exit 4
fi
export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
echo "using ICD $ICD"

if [ "${RUN_MODE:-check}" = tune ]; then
  echo "== tune: tile sweep, dispatch cost, linear-attention block sweep"
  timeout 200 ./node check.mjs --only tune --budget-s 170 --out "$OUT" --label tune ${CHECK_ARGS:-}
  echo "exit $?; done in $(($(date +%s) - T0)) s"
  exit 0
fi

fused() {
  # the fused WGSL attention kernels (block-state scan, diagonal tile) against tfjs ops, same shapes, one run
  for fused in 0 1; do
    echo "== linear kernels, LASP_WEBGPU_FUSED=$fused, $(($(date +%s) - T0)) s in"
    LASP_WEBGPU_FUSED=$fused timeout $((${FUSED_BUDGET_S:-150} + 20)) ./node check.mjs --only linear --budget-s "${FUSED_BUDGET_S:-150}" \
      --out "$OUT" --label "fused$fused" ${CHECK_ARGS:-}
    echo "exit $?"
  done
}
methods() {
  # no new plan starts after METHODS_BUDGET_S; the whole step ends by METHODS_TIMEOUT_S (progress lines
  # carry each plan's step times, so a cut-off run still shows what finished)
  echo "== methods: lasp2 vs lasp1 vs ring, 1 and W ranks (worker threads, one Dawn device each), $(($(date +%s) - T0)) s in"
  SMI=""
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu,clocks.sm,power.draw --format=csv -l 2 >"$OUT/smi.csv" 2>&1 &
    SMI=$!
  fi
  timeout -k 5 "${METHODS_TIMEOUT_S:-230}" ./node methods.mjs --budget-s "${METHODS_BUDGET_S:-150}" --out "$OUT" ${METHODS_ARGS:-}
  local rc=$?
  echo "exit $rc$([ $rc = 139 ] && echo ' (segmentation fault)'); done in $(($(date +%s) - T0)) s"
  if [ -n "$SMI" ]; then
    kill "$SMI"
    echo "GPU samples (every 2 s): $(($(wc -l <"$OUT/smi.csv") - 1)); peak memory.used: $(tail -n +2 "$OUT/smi.csv" | cut -d, -f2 | sort -n | tail -1); peak utilization: $(tail -n +2 "$OUT/smi.csv" | cut -d, -f3 | sort -n | tail -1)"
  fi
}
vktag() {
  # the device-tag layer on this driver: PCI numbering, two numbers on one card, a dispatch through each
  [ -f vk-tag-probe.mjs ] && [ -d "$C/vulkan" ] || { echo "== vk-tag: not carried"; return; }
  echo "== vk-tag: the device-tag Vulkan layer, $(($(date +%s) - T0)) s in"
  timeout 60 ./node vk-tag-probe.mjs "$C/vulkan"
  echo "exit $?"
}
teardown() {
  # how the 4 worker ranks end, against what the main thread holds of Dawn (LASP_DAWN_MAIN, webgpu.ts)
  echo "== teardown: methods.mjs per LASP_DAWN_MAIN, $(($(date +%s) - T0)) s in"
  mkdir -p "$W/td"
  for mode in ${TEARDOWN_MODES:-0 load adapter}; do
    for args in "--lengths 16K --methods lasp2 --reps 1" "--lengths 16K --methods lasp2 --reps 1" "--lengths 16K,64K --methods lasp2,lasp1 --reps 2"; do
      # shellcheck disable=SC2086
      LASP_DAWN_MAIN=$mode timeout -k 5 100 ./node methods.mjs --budget-s 60 --out "$W/td" $args ${TEARDOWN_ARGS:-} >"$W/td.log" 2>&1
      local rc=$?
      echo "teardown LASP_DAWN_MAIN=$mode [$args]: exit $rc$([ $rc = 139 ] && echo ' (segmentation fault)'); $(grep -c 'ended on its own' "$W/td.log") workers ended on their own; $(grep -m1 'main thread Dawn' "$W/td.log"); $(($(date +%s) - T0)) s in"
      [ $rc = 0 ] || tail -4 "$W/td.log"
    done
  done
}
blocks() {
  # the whole training step against the linear block size, fused kernels on
  echo "== blocks: lasp2 step time against block, $(($(date +%s) - T0)) s in"
  for b in ${BLOCKS:-64 128 256}; do
    LASP_DAWN_MAIN=${BLOCKS_DAWN_MAIN:-adapter} timeout -k 5 120 ./node methods.mjs --budget-s 80 --out "$W/td" --block "$b" --lengths 64K,128K --methods lasp2 ${TEARDOWN_ARGS:-} >"$W/bl.log" 2>&1
    echo "block $b: exit $?"
    grep ' row | ' "$W/bl.log"
  done
}
cli() {
  # the lasp CLI end to end on this GPU: verify (2 ranks vs 1 device), a short training run with held-out
  # evaluation and checkpoints, lasp eval of the checkpoint, lasp generate from it (random data: the bundle has
  # no builtin corpus path)
  [ -f lasp.mjs ] || { echo "== cli: not carried"; return; }
  local spec=$HERE/../../examples/tiny.lasp
  local sets=(--set train.data=random --set train.eval.every=5)
  export LASP_RANK_ENTRY=$W/rank-entry.mjs
  echo "== cli: lasp verify, 2 ranks vs 1 device, --backend webgpu, $(($(date +%s) - T0)) s in"
  timeout 120 ./node lasp.mjs verify "$spec" --ranks 2 --backend webgpu "${sets[@]}" 2>&1 | grep -v '^Warning'
  echo "exit ${PIPESTATUS[0]}"
  echo "== cli: lasp run, 2 ranks, 10 steps, --backend webgpu, $(($(date +%s) - T0)) s in"
  timeout 150 ./node lasp.mjs run "$spec" --ranks 2 --steps 10 --backend webgpu --out "$W/cli-run" --save "$W/cli-run/ck" "${sets[@]}" 2>&1 | grep -v '^Warning'
  echo "exit ${PIPESTATUS[0]}"
  cp "$W/cli-run/metrics.jsonl" "$OUT/cli-metrics.jsonl" 2>/dev/null
  echo "== cli: lasp eval of that checkpoint on 1 rank, $(($(date +%s) - T0)) s in"
  timeout 90 ./node lasp.mjs eval "$spec" --ranks 1 --resume "$W/cli-run/ck" --backend webgpu "${sets[@]}" 2>&1 | grep -v '^Warning'
  echo "exit ${PIPESTATUS[0]}"
  echo "== cli: lasp generate from it, $(($(date +%s) - T0)) s in"
  timeout 90 ./node lasp.mjs generate "$spec" --resume "$W/cli-run/ck" --prompt-tokens 1,2,3 --tokens 16 --temperature 0 --backend webgpu "${sets[@]}" 2>&1 | grep -v '^Warning'
  echo "exit ${PIPESTATUS[0]}"
  unset LASP_RANK_ENTRY
}
case "${RUN_MODE:-check}" in
  cli) cli; echo "== done in $(($(date +%s) - T0)) s"; exit 0 ;;
  teardown) teardown; blocks; echo "== done in $(($(date +%s) - T0)) s"; exit 0 ;;
  fused) fused; echo "== done in $(($(date +%s) - T0)) s"; exit 0 ;;
  methods) methods; exit 0 ;;
  # both in one device call (a fresh machine costs minutes of the session's 15): < 9 min with the defaults
  next)
    vktag
    FUSED_BUDGET_S=${FUSED_BUDGET_S:-90} fused
    methods
    echo "== done in $(($(date +%s) - T0)) s"
    exit 0 ;;
esac

echo "== check (default Dawn toggles), $(($(date +%s) - T0)) s in"
timeout 240 ./node check.mjs --budget-s ${CHECK_BUDGET_S:-200} --out "$OUT" --label default ${CHECK_ARGS:-}
echo "exit $?"

if [ $(($(date +%s) - T0)) -lt 270 ]; then
  echo "== matmul with robustness and validation off, $(($(date +%s) - T0)) s in"
  LASP_WEBGPU_FLAGS="enable-dawn-features=disable_robustness,skip_validation" \
    timeout 60 ./node check.mjs --only matmul --budget-s 45 --out "$OUT" --label fast-toggles
  echo "exit $?"
fi
echo "== done in $(($(date +%s) - T0)) s"
