#!/usr/bin/env bash
# Shared by the image test scripts: paths, logging, and pi-gen's chroot helpers.
# shellcheck disable=SC2034 # variables are used by the scripts that source this file
HH_TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HH_IMAGE_DIR=$(dirname "$HH_TEST_DIR")
HH_REPO=$(dirname "$HH_IMAGE_DIR")
HH_CACHE=${HH_CACHE:-$HH_IMAGE_DIR/.cache}
HH_WORK=${HH_WORK:-$HH_IMAGE_DIR/work/ci}
HH_SUITE=bookworm
HH_MIRROR=${HH_MIRROR:-http://deb.debian.org/debian}

log() { echo "[$(date +%H:%M:%S)] $*"; }

# pi-gen's on_chroot: run stdin (or the arguments) as root inside ROOTFS_DIR with /proc, /sys
# and /dev mounted; the apt archive is a cache shared between runs.
on_chroot() {
	local root=${ROOTFS_DIR:?}
	mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
	mountpoint -q "$root/sys" || mount -t sysfs sysfs "$root/sys"
	mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
	mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts"
	mkdir -p "$HH_CACHE/apt-archives/partial" "$root/var/cache/apt/archives"
	mountpoint -q "$root/var/cache/apt/archives" ||
		mount --bind "$HH_CACHE/apt-archives" "$root/var/cache/apt/archives"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# the build host's pip settings (PIP_FIND_LINKS, ...) must not leak into the image's install
	local unset_pip=()
	local var
	for var in $(compgen -e); do
		if [[ $var == PIP_* ]]; then unset_pip+=(-u "$var"); fi
	done
	env "${unset_pip[@]}" DEBIAN_FRONTEND=noninteractive \
		capsh --drop=cap_setfcap "--chroot=$root/" -- -e "$@"
}

unmount_chroot() {
	local root=$1 m
	for m in var/cache/apt/archives dev/pts dev sys proc; do
		if mountpoint -q "$root/$m"; then umount "$root/$m"; fi
	done
}

copy_previous() {
	mkdir -p "${ROOTFS_DIR:?}"
	cp -a "${PREV_ROOTFS_DIR:?}/." "$ROOTFS_DIR/"
}
