#!/usr/bin/env bash
# The appliance image, tested for real on this machine (root, no KVM): lint, stage apply on a
# debootstrapped arm64 root, image assembly without loop mounts, and three qemu boots (a good
# homehub.toml, booted twice, and one with a typo). Prints each sub-tier's time. Caches in
# image-build/.cache.
# HH_IMAGE_TIERS="lint stage" runs only those sub-tiers (later ones need the earlier ones' output).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
tiers=${HH_IMAGE_TIERS:-lint stage image boot}
work=image-build/work/ci
times=()

if [[ $(id -u) -ne 0 ]]; then
  echo "50-image: needs root (debootstrap, chroot, binfmt_misc)" >&2
  exit 1
fi

need_apt() {
  local missing=()
  local p
  for p in "$@"; do dpkg -s "$p" > /dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "50-image: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null
  fi
}

timed() {
  local name=$1
  shift
  local start
  start=$(date +%s)
  echo "--- image: $name"
  "$@"
  local secs=$(($(date +%s) - start))
  times+=("$(printf '%-8s %5ds' "$name" "$secs")")
  echo "--- image: $name ok in ${secs}s"
}

lint() {
  local scripts
  mapfile -t scripts < <(find image-build -path image-build/.cache -prune -o -path image-build/work -prune \
    -o -type f \( -name '*.sh' -o -name 'homehub-datapart' -o -name 'initramfs-*' \) -print)
  shellcheck -x "${scripts[@]}" scripts/ci/50-image.sh
  shellcheck -s sh image-build/stage-homehub/02-system/files/overlay-root.sh image-build/test/initramfs/init
  shellcheck -s bash image-build/config image-build/stage-homehub/EXPORT_IMAGE
  python3 image-build/test/layout_check.py image-build
  nft -c -f image-build/stage-homehub/02-system/files/nftables.conf
  python -m pytest -q -p no:cacheprovider -m image tests/image
}

stage() {
  image-build/test/base.sh
  image-build/wheelhouse.sh image-build/.cache/wheels
  local start
  start=$(date +%s)
  image-build/test/apply_stage.sh "$work/rootfs"
  echo "stage apply (apt + pip under qemu-user): $(($(date +%s) - start))s"
  python3 image-build/test/check_rootfs.py "$work/rootfs"
  local unit
  for unit in homehub.service homehub-firstboot.service homehub-datapart.service homehub-status.service; do
    systemd-analyze verify --root="$repo/$work/rootfs" "$unit"
  done
  # exposure 0-10 as systemd prints it; --threshold counts tenths
  for unit in homehub.service homehub-status.service; do
    systemd-analyze security --offline=true --root="$repo/$work/rootfs" --threshold=20 "$unit" |
      tail -1
  done
  # the venv really runs on arm64 and validates the shipped example as the hub would
  ROOTFS_DIR="$repo/$work/rootfs" bash -c 'source image-build/test/common.sh; on_chroot -c \
    "homehub --version && homehub check-config /opt/homehub/homehub.toml.example"; \
    unmount_chroot "$ROOTFS_DIR"'
}

image() {
  image-build/test/make_initramfs.sh
  cp image-build/homehub.toml.example "$work/good.toml"
  sed -i 's/^hostname = "homehub"/hostname = "hub-ci"/' "$work/good.toml"
  sed -e 's/^timezone = /timezon = /' image-build/homehub.toml.example > "$work/typo.toml"
  image-build/test/make_image.sh "$work/rootfs" "$work/good.toml" "$work/good.img" --probe
  image-build/test/make_image.sh "$work/rootfs" "$work/typo.toml" "$work/typo.img" --probe
}

boot() {
  python3 image-build/test/boot_test.py "$work/good.img" --expect good --hostname hub-ci
  # the same card again: the root overlay forgot everything, the data partition did not
  python3 image-build/test/boot_test.py "$work/good.img" --expect reboot --hostname hub-ci
  python3 image-build/test/boot_test.py "$work/typo.img" --expect bad \
    --error-text "unknown key 'timezon' (did you mean 'timezone'?)"
}

need_apt debootstrap qemu-user-static binfmt-support qemu-system-arm qemu-utils dosfstools mtools \
  e2fsprogs fdisk shellcheck nftables kmod cpio libcap2-bin curl
mkdir -p "$work"
total=$(date +%s)
for t in $tiers; do timed "$t" "$t"; done
echo "image sub-tier times:"
printf '  %s\n' "${times[@]}"
echo "  total    $(($(date +%s) - total))s"
