#!/usr/bin/env bash
# Builds the Open MPI binding (native/build/Release/lasp_mpi.node) and the Vulkan device-tag layer
# (native/vulkan/build/) after `npm ci`; needs the packages from setup-system.sh (mpicc from libopenmpi-dev,
# the Vulkan headers from libvulkan-dev) and Node's headers next to the node binary.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mpicc >/dev/null 2>&1 || { echo "build-native: mpicc missing: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }
npm run build:mpi
test -f native/build/Release/lasp_mpi.node
npm run --silent build:vk
test -f native/vulkan/build/libVkLayer_LASP_device_tag.so
