#!/usr/bin/env bash
# System packages the tests need (Debian). Idempotent: skips apt when everything is present.
set -euo pipefail
need=()
# node-gyp (npm run build:mpi, .ci/build-native.sh) needs a C++ compiler, make and python3
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
# mpirun (Open MPI 4) looks for ssh/rsh even for a local job; a recommend that --no-install-recommends drops
command -v ssh >/dev/null 2>&1 || command -v rsh >/dev/null 2>&1 || need+=(openssh-client)
[ -f /usr/include/x86_64-linux-gnu/openmpi/mpi.h ] || [ -f /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h ] || need+=(libopenmpi-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
