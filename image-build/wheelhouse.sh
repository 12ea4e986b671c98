#!/usr/bin/env bash
# Build the hub's wheel from this checkout and download pinned aarch64 wheels for it into DIR.
# Usage: image-build/wheelhouse.sh DIR
# Downloading manylinux aarch64 wheels on the build host takes seconds; building them inside an
# emulated arm64 chroot would take far longer and needs compilers in the image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${1:?usage: wheelhouse.sh DIR}
python=${PYTHON:-python3}
mkdir -p "$out"
rm -f "$out"/homehub-*.whl
"$python" -m pip wheel -q --no-deps -w "$out" "$repo"
# The Pi runs Python 3.11 (bookworm): ai-edge-litert's last cp311 aarch64 wheel is 1.4.0, so
# the image pins that where the development lock (x86_64) may pin a newer one.
sed -e 's/^ai-edge-litert==.*/ai-edge-litert==1.4.0/' "$repo/constraints.txt" > "$out/constraints.txt"
platforms=()
for p in manylinux2014_aarch64 manylinux_2_17_aarch64 manylinux_2_27_aarch64 \
  manylinux_2_28_aarch64 manylinux_2_31_aarch64 manylinux_2_34_aarch64 manylinux_2_36_aarch64; do
  platforms+=(--platform "$p")
done
"$python" -m pip download -q --only-binary=:all: "${platforms[@]}" --python-version 3.11 \
  --implementation cp --abi cp311 --abi abi3 --abi none \
  -c "$out/constraints.txt" -d "$out" "$out"/homehub-*.whl
echo "wheelhouse: $(find "$out" -name '*.whl' | wc -l) wheels in $out"
