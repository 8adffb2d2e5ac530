#!/usr/bin/env bash
# On the lent machine (device tool, repo root, carry=bench/device-cpu/carry): unpacks node, then runs at once,
# each on its own cores: the MQAR pair (examples/mqar_linear.lasp vs mqar_hybrid.lasp, 4 ranks each, the same
# steps and data), bench/methods.ts on 4 ranks, and bench/kernels.ts on one core. Everything ends within
# LIMIT seconds (default 470); results land in $OUT (mqar/<model>/metrics.jsonl, methods.json, kernels.json, logs).
# RUN_MODE=methods: instead, methods.ts plain and with --link h100/1xauto side by side (4 ranks each), and kernels.
#   locally: OUT=/tmp/out LIMIT=60 STEPS=5 bash bench/device-cpu/run.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
C=$HERE/carry
W=${LASP_WORK:-/tmp/lasp-cpu}
OUT=${OUT:-$HERE/out}
LIMIT=${LIMIT:-470}
STEPS=${STEPS:-1000}
BATCH=${BATCH:-16}
mkdir -p "$OUT/mqar" "$W"
exec > >(tee "$OUT/run.log") 2>&1
echo "== $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
xz -dc "$C/node.xz" >"$W/node" && chmod +x "$W/node"
"$W/node" -v || { echo "FATAL: carried node does not run here"; exit 3; }
NODE=$W/node
export LASP_WASM_DIR=$C/wasm LASP_RANK_ENTRY=$C/rank-entry.mjs LASP_BENCH_RANK_ENTRY=$C/rank-bench.mjs
cd "$ROOT"

if [ "${RUN_MODE:-all}" = methods ]; then
  # LASP-2 vs LASP-1 vs ring with a core per rank: plain shared memory, and with an emulated H100 link
  # (on 2 shared cores the chain's idle time went to other ranks' compute, bench/README.md), plus the kernels
  pids=()
  timeout "$LIMIT" "$NODE" "$C/methods.mjs" --linear "${LINEAR:-16K,32K,64K,128K}" --softmax none --reps 3 \
    --out "$OUT/methods.json" >"$OUT/methods.log" 2>&1 &
  pids+=($!)
  timeout "$LIMIT" "$NODE" "$C/methods.mjs" --linear "${LINK_LINEAR:-16K,32K,64K}" --softmax none --reps 3 --link h100/1xauto \
    --out "$OUT/methods-link.json" >"$OUT/methods-link.log" 2>&1 &
  pids+=($!)
  timeout "$LIMIT" "$NODE" "$C/kernels.mjs" --reps 3 --out "$OUT/kernels.json" >"$OUT/kernels.log" 2>&1 &
  pids+=($!)
  wait "${pids[@]}"
  echo "== done at $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  tail -8 "$OUT/methods.log"
  tail -8 "$OUT/methods-link.log"
  tail -12 "$OUT/kernels.log"
  exit 0
fi

pids=()
for m in linear hybrid; do
  timeout "$LIMIT" "$NODE" "$C/lasp.mjs" run "examples/mqar_$m.lasp" --ranks 4 --steps "$STEPS" --set "train.batch=$BATCH" \
    --out "$OUT/mqar/$m" --quiet >"$OUT/mqar-$m.log" 2>&1 &
  pids+=($!)
done
timeout "$LIMIT" "$NODE" "$C/methods.mjs" --linear "${LINEAR:-16K,32K,64K}" --softmax "${SOFTMAX:-2K,4K}" --reps 3 --out "$OUT/methods.json" >"$OUT/methods.log" 2>&1 &
pids+=($!)
timeout "$LIMIT" "$NODE" "$C/kernels.mjs" --reps 3 --out "$OUT/kernels.json" >"$OUT/kernels.log" 2>&1 &
pids+=($!)
# (a bare `wait` would also wait for the tee above, which never ends)
wait "${pids[@]}"
echo "== done at $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
for m in linear hybrid; do
  f=$OUT/mqar/$m/metrics.jsonl
  [ -s "$f" ] || { echo "mqar $m: no metrics"; tail -5 "$OUT/mqar-$m.log"; continue; }
  "$NODE" -e '
    const ls = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const last = ls.slice(-50);
    const mean = (k) => last.reduce((s, r) => s + (r[k] ?? 0), 0) / last.length;
    console.log(`mqar ${process.argv[2]}: ${ls.length} steps (last ${ls[ls.length - 1].step}); last 50: loss ${mean("loss").toFixed(3)}, accuracy ${(100 * mean("accuracy")).toFixed(2)}%, ${mean("tokensPerSec").toFixed(0)} tokens/s`);
  ' "$f" "$m"
done
tail -8 "$OUT/methods.log"
tail -30 "$OUT/kernels.log"
