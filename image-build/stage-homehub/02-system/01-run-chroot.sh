#!/bin/bash -e
# In the image: firewall on, SSH off until a key is given, no passwords, no baked secrets.
systemctl enable nftables.service
systemctl disable ssh.service >/dev/null 2>&1 || true
systemctl mask ssh.socket >/dev/null 2>&1 || true
systemctl enable unattended-upgrades.service apt-daily.timer apt-daily-upgrade.timer
# no default password: root and the admin user log in with an SSH key or not at all
passwd -l root >/dev/null
if id hhadmin >/dev/null 2>&1; then
	passwd -l hhadmin >/dev/null
fi
# per-device identities are made on the device, never shipped in the image
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
# read-only root: rebuild the kernel's initramfs with the overlay hook (Raspberry Pi OS boots
# with an initramfs, auto_initramfs=1); the CI stand-in root has no kernel and builds its own
if command -v update-initramfs >/dev/null 2>&1 && ls /boot/initrd.img-* >/dev/null 2>&1; then
	update-initramfs -u -k all
fi
# avahi answers mDNS on 5353 only: no wide-area DNS-SD (it listens on a random UDP port)
if [ -f /etc/avahi/avahi-daemon.conf ]; then
	sed -i 's/^#\?enable-wide-area=.*/enable-wide-area=no/' /etc/avahi/avahi-daemon.conf
fi
