#!/usr/bin/env bash
# Builds the Vulkan device-tag layer (device_tag.c) into native/vulkan/build/: the shared library and its
# manifest, side by side (the manifest names the library relative to itself). Needs a C compiler and the
# Vulkan headers (Debian: apt-get install libvulkan-dev); not the loader or a GPU.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/build}
CC=${CC:-cc}
if [ ! -f /usr/include/vulkan/vk_layer.h ] && ! echo '#include <vulkan/vk_layer.h>' | "$CC" -E -x c - >/dev/null 2>&1; then
  echo "build-vk: the Vulkan headers are missing: apt-get install libvulkan-dev" >&2
  exit 1
fi
mkdir -p "$OUT"
"$CC" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  -o "$OUT/libVkLayer_LASP_device_tag.so.tmp" "$HERE/device_tag.c" -lpthread
mv "$OUT/libVkLayer_LASP_device_tag.so.tmp" "$OUT/libVkLayer_LASP_device_tag.so"
cp "$HERE/VkLayer_LASP_device_tag.json" "$OUT/"
echo "build-vk: $OUT/libVkLayer_LASP_device_tag.so"
