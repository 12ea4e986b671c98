# shellcheck shell=sh
# homehub read-only root: a RAM overlay over the root partition, set up before init runs.
# Sourced by the initramfs: initramfs-tools' init-bottom on the Pi, the CI test's small one.
# POSIX sh only (busybox or klibc). "homehub.overlay=off" on the kernel command line (edit
# cmdline.txt on the boot partition) gives a writable root for maintenance.

homehub_overlay() {
	newroot=$1
	# words, not lines: the command line is one line of words
	# shellcheck disable=SC2013
	for arg in $(cat /proc/cmdline); do
		if [ "$arg" = "homehub.overlay=off" ]; then
			echo "homehub-overlay: off (kernel command line)"
			return 0
		fi
	done
	base=/run/homehub-overlay
	mkdir -p "$base"
	mount -t tmpfs -o mode=0755,size=25% homehub-overlay "$base" || return 1
	mkdir -p "$base/lower" "$base/upper" "$base/work"
	mount -o move "$newroot" "$base/lower" || return 1
	mount -o remount,ro "$base/lower" 2>/dev/null || true
	if ! mount -t overlay -o "lowerdir=$base/lower,upperdir=$base/upper,workdir=$base/work" \
		overlay "$newroot"; then
		echo "homehub-overlay: overlay failed; booting the root read-write"
		mount -o move "$base/lower" "$newroot"
		mount -o remount,rw "$newroot"
		return 1
	fi
	mkdir -p "$newroot/media/root-ro"
	mount -o move "$base/lower" "$newroot/media/root-ro"
	# the root's fstab line would make systemd fsck and remount the overlay: drop it (in RAM)
	tab="$newroot/etc/fstab"
	if [ -f "$tab" ]; then
		while IFS= read -r line; do
			set -f
			# shellcheck disable=SC2086 # split the line into fields on purpose
			set -- $line
			set +f
			if [ "${2:-}" = "/" ] && [ "${1#\#}" = "$1" ]; then
				echo "#homehub-overlay# $line"
			else
				echo "$line"
			fi
		done < "$tab" > "$tab.new" && mv "$tab.new" "$tab"
	fi
	echo "homehub-overlay: root is read-only, changes live in RAM"
}
