#!/usr/bin/env bash
# Build the homehub appliance image with pi-gen (run as root on a Debian 12 technician machine).
#
#   sudo image-build/build.sh            # -> image-build/work/pi-gen/deploy/*homehub*.img.xz
#
# pi-gen is fetched at a pinned tag of its bookworm-arm64 line (Raspberry Pi OS Lite, 64-bit).
# Two lines exist: "arm64" (this one, Debian 12 hosts: it uses qemu-user-static) and the
# newer default line, which asks for qemu-user-binfmt and breaks the chroot on Debian 12;
# to use it on a newer host, set PI_GEN_REF to one of its tags and install its depends.
# Nothing from pi-gen is copied into this repository: it is cloned into image-build/work/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PI_GEN_URL=${PI_GEN_URL:-https://github.com/RPi-Distro/pi-gen.git}
PI_GEN_REF=${PI_GEN_REF:-2024-11-19-raspios-bookworm-arm64}
work=${HOMEHUB_WORK:-$here/work}

if [[ $(id -u) -ne 0 ]]; then
  echo "build.sh: run as root (pi-gen mounts and chroots)" >&2
  exit 1
fi
python3 "$here/test/layout_check.py" "$here"

mkdir -p "$work"
if [[ ! -d $work/pi-gen/.git ]]; then
  git clone --branch "$PI_GEN_REF" --depth 1 "$PI_GEN_URL" "$work/pi-gen"
fi
git -C "$work/pi-gen" fetch --depth 1 origin "refs/tags/$PI_GEN_REF:refs/tags/$PI_GEN_REF"
git -C "$work/pi-gen" checkout --quiet "$PI_GEN_REF"

# the hub and its pinned dependencies as aarch64 wheels, built from this checkout
"$here/wheelhouse.sh" "$work/wheels"

# Lite only: stage2 exports no image of its own, our stage does
touch "$work/pi-gen/stage2/SKIP_IMAGES"
rm -f "$work/pi-gen/stage2/EXPORT_NOOBS"

FIRST_USER_PASS=$(head -c 32 /dev/urandom | base64)
HOMEHUB_STAGE_DIR="$here/stage-homehub"
HOMEHUB_WHEELS="$work/wheels"
export FIRST_USER_PASS HOMEHUB_STAGE_DIR HOMEHUB_WHEELS
cd "$work/pi-gen"
./build.sh -c "$here/config"
ls -l "$work/pi-gen/deploy/"
