#!/bin/bash -e
# In the image: the service user, the hub in its own venv from pinned wheels, units enabled.
if ! id homehub >/dev/null 2>&1; then
	useradd --system --user-group --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin homehub
fi
python3 -m venv /opt/homehub/venv
/opt/homehub/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check --no-compile \
	--find-links /opt/homehub/wheels -c /opt/homehub/wheels/constraints.txt homehub
rm -rf /opt/homehub/wheels
ln -sf /opt/homehub/venv/bin/homehub /usr/local/bin/homehub
# the data partition is mounted here; the hub's configuration lives on it (see homehub-firstboot)
install -d -m 0755 /var/lib/homehub
ln -sfn /var/lib/homehub/etc /etc/homehub
systemctl enable homehub-datapart.service homehub-firstboot.service homehub.service
