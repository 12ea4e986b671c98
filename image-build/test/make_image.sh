#!/usr/bin/env bash
# Assemble a bootable disk image without loop mounts (stand-in for pi-gen's export-image):
# a FAT boot partition with a homehub.toml (mkfs.fat + mcopy), an ext4 root made straight from
# the directory (mkfs.ext4 -d), and free space where first boot creates the data partition.
# For the VM it also adds what the Pi's kernel package would: a module tree; and, when asked,
# the boot test's probe unit (test-only, never in the shipped image).
# Usage: make_image.sh ROOTFS HOMEHUB_TOML OUT.img [--probe]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
rootfs=${1:?usage: make_image.sh ROOTFS HOMEHUB_TOML OUT.img [--probe]}
toml=${2:?}
img=${3:?}
probe=${4:-}
ver=$(cat "$HH_CACHE/kernel/version")
tmp=$(mktemp -d "$(dirname "$img")/.mkimg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# kernel modules the VM's root needs (file systems, netfilter, virtio), as the kernel package would
src="$HH_CACHE/kernel/modules"
dst="$rootfs/lib/modules/$ver"
if [[ ! -f $dst/modules.dep ]]; then
	mkdir -p "$dst/kernel/drivers/net"
	cp -a "$src"/modules.* "$dst/"
	for d in arch block crypto fs lib mm net; do cp -a "$src/kernel/$d" "$dst/kernel/"; done
	for d in virtio block char; do cp -a "$src/kernel/drivers/$d" "$dst/kernel/drivers/"; done
	cp -a "$src/kernel/drivers/net/virtio_net.ko" "$src/kernel/drivers/net/net_failover.ko" \
		"$dst/kernel/drivers/net/"
	depmod -b "$rootfs" "$ver"
fi
# export-image writes fstab's boot and root lines (by PARTUUID there, by label here)
if ! grep -q 'LABEL=bootfs' "$rootfs/etc/fstab"; then
	{
		echo "LABEL=rootfs	/	ext4	defaults,noatime	0	1"
		echo "LABEL=bootfs	/boot/firmware	vfat	defaults,nofail	0	2"
	} >> "$rootfs/etc/fstab"
fi
mkdir -p "$rootfs/boot/firmware"
probe_unit="$rootfs/etc/systemd/system/homehub-ci-probe.service"
probe_link="$rootfs/etc/systemd/system/multi-user.target.wants/homehub-ci-probe.service"
if [[ $probe == --probe ]]; then
	install -m 0755 "$HH_TEST_DIR/probe.sh" "$rootfs/usr/local/sbin/homehub-ci-probe"
	install -m 0644 "$HH_TEST_DIR/probe.service" "$probe_unit"
	ln -sf /etc/systemd/system/homehub-ci-probe.service "$probe_link"
else
	rm -f "$probe_unit" "$probe_link" "$rootfs/usr/local/sbin/homehub-ci-probe"
fi

mib=$((1024 * 1024))
boot_mib=64
root_mib=$(($(du -sm "$rootfs" | cut -f1) * 13 / 10 + 128))
data_mib=${HH_DATA_MIB:-160}
log "root ${root_mib} MiB, boot ${boot_mib} MiB, ${data_mib} MiB left for the data partition"
mkfs.fat -F 32 -n bootfs -C "$tmp/boot.fat" $((boot_mib * 1024)) > /dev/null
mcopy -i "$tmp/boot.fat" "$toml" ::homehub.toml
mkfs.ext4 -q -L rootfs -d "$rootfs" -E root_owner=0:0 "$tmp/root.ext4" "${root_mib}M"

start=8 # MiB, as Raspberry Pi OS aligns its first partition
rm -f "$img"
truncate -s $(((start + boot_mib + root_mib + data_mib) * mib)) "$img"
sfdisk --quiet "$img" <<-EOF
	label: dos
	start=$((start * 2048)), size=$((boot_mib * 2048)), type=c
	start=$(((start + boot_mib) * 2048)), size=$((root_mib * 2048)), type=83
EOF
dd if="$tmp/boot.fat" of="$img" bs=1M seek="$start" conv=notrunc,sparse status=none
dd if="$tmp/root.ext4" of="$img" bs=1M seek=$((start + boot_mib)) conv=notrunc,sparse status=none
log "image $img: $(du -h --apparent-size "$img" | cut -f1)"
