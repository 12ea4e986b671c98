#!/usr/bin/env bash
# Build the boot test's initramfs once: busybox, the modules it needs to reach the root (and
# their dependencies, resolved by the host's modprobe), and the image's overlay script.
# Debian's default initramfs takes over 20 minutes to build under emulation; this takes seconds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
out="$HH_CACHE/initramfs.cpio.gz"
kdir="$HH_CACHE/kernel"
ver=$(cat "$kdir/version")
MODULES=(virtio_pci virtio_mmio virtio_blk ext4 overlay)
if [[ ! -f $kdir/modules-root/lib/modules/$ver/modules.dep ]]; then
	mkdir -p "$kdir/modules-root/lib/modules"
	cp -a "$kdir/modules" "$kdir/modules-root/lib/modules/$ver"
	depmod -b "$kdir/modules-root" "$ver"
fi
stampval="$ver ${MODULES[*]} $(sha256sum "$HH_TEST_DIR/initramfs/init" "$HH_IMAGE_DIR/stage-homehub/02-system/files/overlay-root.sh" | sha256sum | cut -c1-16)"
if [[ -f $out && $(cat "$out.stamp" 2>/dev/null) == "$stampval" ]]; then
	log "initramfs cached"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,run,newroot,scripts,lib/modules}
cp "$HH_CACHE/base-rootfs/bin/busybox" "$tmp/bin/busybox"
install -m 0755 "$HH_TEST_DIR/initramfs/init" "$tmp/init"
cp "$HH_IMAGE_DIR/stage-homehub/02-system/files/overlay-root.sh" "$tmp/scripts/homehub-overlay-root.sh"
: > "$tmp/modules.list"
for m in "${MODULES[@]}"; do
	modprobe -d "$kdir/modules-root" -S "$ver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$tmp/lib/modules/"
	basename "$ko" >> "$tmp/modules.list"
done
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
echo "$stampval" > "$out.stamp"
log "initramfs: $(wc -l < "$tmp/modules.list") modules ($(tr '\n' ' ' < "$tmp/modules.list")), $(du -h "$out" | cut -f1)"
