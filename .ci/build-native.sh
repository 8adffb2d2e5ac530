#!/usr/bin/env bash
# Builds the Open MPI binding (native/build/Release/lasp_mpi.node) after `npm ci`; needs the packages
# from setup-system.sh (mpicc from libopenmpi-dev) and Node's headers next to the node binary.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mpicc >/dev/null 2>&1 || { echo "build-native: mpicc missing: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }
npm run build:mpi
test -f native/build/Release/lasp_mpi.node
