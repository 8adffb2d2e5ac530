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
# the Vulkan headers for the device-tag layer (npm run build:vk, native/vulkan/): one GPU per rank on WebGPU
[ -f /usr/include/vulkan/vk_layer.h ] || need+=(libvulkan-dev)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A software Vulkan device (Mesa's lavapipe) so the webgpu backend's shaders run in CI without a GPU
# (test/backend/webgpu-software.test.ts). Dawn needs Mesa >= 23; Debian 12 ships 22.3, its backports 25.
# Best effort: without it those tests skip (and say so), nothing else depends on it.
lvp_version() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true; }
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || [[ "$(lvp_version)" == 22.* ]]; then
  (
    set -e
    export DEBIAN_FRONTEND=noninteractive
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    target=()
    if [ "$codename" = bookworm ]; then
      [ -f /etc/apt/sources.list.d/lasp-backports.list ] || grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ ||
        echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/lasp-backports.list
      target=(-t bookworm-backports)
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers libvulkan1 >/dev/null
  ) || echo "setup-system: lavapipe (mesa-vulkan-drivers) not installed; the webgpu software-device tests will skip"
fi
if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && [[ "$(lvp_version)" != 22.* ]]; then
  echo "setup-system: software Vulkan device: mesa-vulkan-drivers $(lvp_version)"
fi
