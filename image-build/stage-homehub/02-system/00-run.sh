#!/bin/bash -e
# Host side: firewall, volatile logs, SSH policy, unattended upgrades, fstab, no root resize.
install -m 0755 files/nftables.conf "${ROOTFS_DIR}/etc/nftables.conf"
install -d "${ROOTFS_DIR}/etc/systemd/journald.conf.d" "${ROOTFS_DIR}/etc/ssh/sshd_config.d" \
	"${ROOTFS_DIR}/etc/systemd/system/ssh.service.d"
install -m 0644 files/journald.conf "${ROOTFS_DIR}/etc/systemd/journald.conf.d/homehub.conf"
install -m 0644 files/sshd.conf "${ROOTFS_DIR}/etc/ssh/sshd_config.d/homehub.conf"
install -m 0644 files/ssh-hostkey.conf "${ROOTFS_DIR}/etc/systemd/system/ssh.service.d/homehub.conf"
install -m 0644 files/20auto-upgrades "${ROOTFS_DIR}/etc/apt/apt.conf.d/20auto-upgrades"
install -m 0644 files/52homehub-unattended-upgrades \
	"${ROOTFS_DIR}/etc/apt/apt.conf.d/52homehub-unattended-upgrades"
if ! grep -q 'LABEL=hh-data' "${ROOTFS_DIR}/etc/fstab"; then
	cat files/fstab.homehub >> "${ROOTFS_DIR}/etc/fstab"
fi
# Raspberry Pi OS grows the root partition over the whole card on first boot; the data
# partition needs that space, so the root stays at its built size.
cmdline="${ROOTFS_DIR}/boot/firmware/cmdline.txt"
if [ -f "${cmdline}" ]; then
	sed -i 's# init=/usr/lib/raspberrypi-sys-mods/firstboot##' "${cmdline}"
fi
# read-only root: the overlay function and its initramfs-tools hook (rebuilt in 01-run-chroot.sh)
install -d "${ROOTFS_DIR}/usr/local/lib/homehub" \
	"${ROOTFS_DIR}/etc/initramfs-tools/scripts/init-bottom" "${ROOTFS_DIR}/etc/initramfs-tools/hooks"
install -m 0644 files/overlay-root.sh "${ROOTFS_DIR}/usr/local/lib/homehub/overlay-root.sh"
install -m 0755 files/initramfs-init-bottom \
	"${ROOTFS_DIR}/etc/initramfs-tools/scripts/init-bottom/homehub-overlay"
install -m 0755 files/initramfs-hook "${ROOTFS_DIR}/etc/initramfs-tools/hooks/homehub-overlay"
