#!/usr/bin/env bash
# Stand-in for pi-gen's stages 0-2 (Raspberry Pi OS Lite): a debootstrapped Debian bookworm
# arm64 root with what Lite has that we rely on, and the admin user stage1 creates with a
# password. Cached in .cache/base-rootfs (minutes under qemu-user; seconds when cached).
# Also fetches Debian's arm64 kernel for the boot test into .cache/kernel.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"

INCLUDE=systemd-sysv,udev,kmod,iproute2,dbus,libpam-systemd,openssh-server,network-manager,avahi-daemon,python3,ca-certificates,sudo,procps,iputils-ping,curl,less,busybox-static
stamp="$HH_CACHE/base-rootfs.stamp"
base="$HH_CACHE/base-rootfs"
want="debootstrap $HH_SUITE arm64 minbase $INCLUDE v1"

binfmt() {
	mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	update-binfmts --enable qemu-aarch64 2>/dev/null || true
	grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64
}

make_base() {
	log "debootstrap $HH_SUITE arm64 into $base (slow under qemu-user)"
	rm -rf "$base" "$stamp"
	mkdir -p "$HH_CACHE/apt-archives"
	debootstrap --arch=arm64 --variant=minbase --include="$INCLUDE" \
		--cache-dir="$HH_CACHE/apt-archives" "$HH_SUITE" "$base" "$HH_MIRROR"
	ROOTFS_DIR=$base
	export ROOTFS_DIR
	# stage1 semantics: the first user with a (random, never shown) password; stage0: apt lists
	on_chroot <<-CHROOT
		apt-get update -q
		id hhadmin >/dev/null 2>&1 || useradd -m -s /bin/bash -G sudo hhadmin
		echo "hhadmin:$(head -c 24 /dev/urandom | base64)" | chpasswd
		echo homehub > /etc/hostname
	CHROOT
	unmount_chroot "$base"
	echo "$want" > "$stamp"
}

fetch_kernel() {
	local kdir="$HH_CACHE/kernel"
	if [[ -f $kdir/vmlinuz && -d $kdir/modules && -f $kdir/version ]]; then return; fi
	log "fetching Debian's arm64 kernel package"
	ROOTFS_DIR=$base
	export ROOTFS_DIR
	local pkg
	pkg=$(on_chroot -c "apt-cache depends linux-image-arm64" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	rm -rf "$kdir" "$HH_CACHE/kernel-deb"
	mkdir -p "$HH_CACHE/kernel-deb" "$kdir"
	on_chroot -c "cd /tmp && apt-get download -q $pkg && mv /tmp/${pkg}_*.deb /var/cache/apt/archives/"
	unmount_chroot "$base"
	dpkg-deb -x "$(ls "$HH_CACHE/apt-archives/${pkg}"_*.deb)" "$HH_CACHE/kernel-deb"
	cp "$HH_CACHE"/kernel-deb/boot/vmlinuz-* "$kdir/vmlinuz"
	cp "$HH_CACHE"/kernel-deb/boot/config-* "$kdir/config"
	ls "$HH_CACHE/kernel-deb/lib/modules" > "$kdir/version"
	mv "$HH_CACHE"/kernel-deb/lib/modules/* "$kdir/modules"
	# modules.dep is made by the package's postinst; depmod on the host reads arm64 modules too
	depmod -b "$HH_CACHE/kernel-deb" "$(cat "$kdir/version")" 2>/dev/null || true
	rm -rf "$HH_CACHE/kernel-deb"
}

binfmt
if [[ $(cat "$stamp" 2>/dev/null) != "$want" ]]; then make_base; else log "base root cached"; fi
fetch_kernel
log "base root: $(du -sh "$base" | cut -f1); kernel $(cat "$HH_CACHE/kernel/version")"
