#!/bin/bash -e
# Byte-compile the hub's venv (the root is read-only at run time, so no .pyc can be written
# then). Bytecode does not depend on the CPU, so the build host does it when its Python has the
# image's version: minutes faster than under qemu-user emulation.
site=$(echo "${ROOTFS_DIR}"/opt/homehub/venv/lib/python3.*/site-packages)
image_py=$(basename "$(dirname "${site}")")
if command -v "${image_py}" >/dev/null 2>&1; then
	"${image_py}" -m compileall -q -j 0 -s "${ROOTFS_DIR}" -p / "${site}"
else
	on_chroot <<-EOF
		/opt/homehub/venv/bin/python3 -m compileall -q -j 0 "${site#"${ROOTFS_DIR}"}"
	EOF
fi
