#!/usr/bin/env bash
# Apply our pi-gen stage to a copy of the base root, in pi-gen's order and with its semantics
# (pi-gen itself and the Raspberry Pi archive are not reachable in CI; Debian stands in).
# Usage: apply_stage.sh ROOTFS_DIR [WHEELHOUSE]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$0")/common.sh"
ROOTFS_DIR=$(realpath -m "${1:?usage: apply_stage.sh ROOTFS_DIR [WHEELHOUSE]}")
STAGE_DIR="$HH_IMAGE_DIR/stage-homehub"
PREV_ROOTFS_DIR="$HH_CACHE/base-rootfs"
# what build.sh sets before pi-gen sources the config
FIRST_USER_PASS=$(head -c 24 /dev/urandom | base64)
HOMEHUB_STAGE_DIR=$STAGE_DIR
HOMEHUB_WHEELS=$(realpath "${2:-$HH_CACHE/wheels}")
export FIRST_USER_PASS HOMEHUB_STAGE_DIR HOMEHUB_WHEELS
# shellcheck source-path=SCRIPTDIR source=../config
source "$HH_IMAGE_DIR/config"
export STAGE_DIR ROOTFS_DIR PREV_ROOTFS_DIR HH_CACHE
export -f on_chroot copy_previous log

packages() { sed -e 's/#.*//' "$1" | tr -s ' \n' ' '; }

run_sub_stage() {
	local sub=$1 i list
	log "sub-stage $(basename "$sub")"
	pushd "$sub" > /dev/null
	for i in {00..99}; do
		if [[ -f $i-debconf ]]; then
			on_chroot <<-EOF2
				debconf-set-selections <<SELEOF
				$(cat "$i-debconf")
				SELEOF
			EOF2
		fi
		if [[ -f $i-packages-nr ]]; then
			list=$(packages "$i-packages-nr")
			[[ -z ${list// /} ]] || on_chroot -c "apt-get install --no-install-recommends -y -q $list"
		fi
		if [[ -f $i-packages ]]; then
			list=$(packages "$i-packages")
			[[ -z ${list// /} ]] || on_chroot -c "apt-get install -y -q $list"
		fi
		if [[ -d $i-patches ]]; then
			echo "apply_stage: $sub/$i-patches: quilt patches are not supported by this runner" >&2
			return 1
		fi
		if [[ -x $i-run.sh ]]; then
			log "  $i-run.sh"
			"./$i-run.sh"
		fi
		if [[ -f $i-run-chroot.sh ]]; then
			log "  $i-run-chroot.sh"
			on_chroot < "$i-run-chroot.sh"
		fi
	done
	popd > /dev/null
}

trap 'unmount_chroot "$ROOTFS_DIR"' EXIT
unmount_chroot "$ROOTFS_DIR"
rm -rf "$ROOTFS_DIR" # pi-gen's CLEAN=1
mkdir -p "$(dirname "$ROOTFS_DIR")"
cd "$STAGE_DIR"
if [[ -x prerun.sh ]]; then ./prerun.sh; fi
for sub in "$STAGE_DIR"/*; do
	if [[ -d $sub && ! -f $sub/SKIP ]]; then run_sub_stage "$sub"; fi
done
log "stage applied to $ROOTFS_DIR"
