#!/bin/bash -e
# Host side: put the wheelhouse (built by image-build/wheelhouse.sh) and the units in the root.
: "${HOMEHUB_WHEELS:?HOMEHUB_WHEELS must point at the wheelhouse (export it in the config)}"
install -d -m 0755 "${ROOTFS_DIR}/opt/homehub/wheels"
install -m 0644 "${HOMEHUB_WHEELS}"/*.whl "${HOMEHUB_WHEELS}/constraints.txt" \
	"${ROOTFS_DIR}/opt/homehub/wheels/"
install -m 0755 files/homehub-datapart "${ROOTFS_DIR}/usr/local/sbin/homehub-datapart"
for unit in homehub.service homehub-firstboot.service homehub-datapart.service \
	homehub-status.service; do
	install -m 0644 "files/${unit}" "${ROOTFS_DIR}/etc/systemd/system/${unit}"
done
install -m 0644 ../../homehub.toml.example "${ROOTFS_DIR}/opt/homehub/homehub.toml.example"
