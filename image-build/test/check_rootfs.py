#!/usr/bin/env python3
"""Check a root file system our stage was applied to: units, users, modes, no baked secrets.

Usage: check_rootfs.py ROOTFS   (exit 1 with one line per problem)
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

ENABLED = {
    "multi-user.target.wants": ["homehub.service", "homehub-firstboot.service"],
    "sysinit.target.wants": ["nftables.service"],
    "local-fs.target.wants": ["homehub-datapart.service"],
}
DISABLED = ["ssh.service", "sshd.service"]
MODES = {
    "etc/nftables.conf": 0o755,
    "etc/systemd/system/homehub.service": 0o644,
    "etc/systemd/system/homehub-firstboot.service": 0o644,
    "etc/systemd/system/homehub-datapart.service": 0o644,
    "etc/systemd/system/homehub-status.service": 0o644,
    "usr/local/sbin/homehub-datapart": 0o755,
    "usr/local/lib/homehub/overlay-root.sh": 0o644,
    "etc/initramfs-tools/scripts/init-bottom/homehub-overlay": 0o755,
    "etc/systemd/journald.conf.d/homehub.conf": 0o644,
    "etc/ssh/sshd_config.d/homehub.conf": 0o644,
    "etc/apt/apt.conf.d/20auto-upgrades": 0o644,
}
PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40}")
"""A PEM private key with a body (libraries mention the header line alone)."""
SECRET_DIRS = ["etc", "opt", "root", "home", "var/lib", "boot", "usr/local"]
MAX_SCAN = 1 << 20


def check(root: Path) -> list[str]:
    """Every problem found under ``root``."""
    problems: list[str] = []
    systemd = root / "etc/systemd/system"
    problems += [
        f"{unit} is not enabled ({target})"
        for target, units in ENABLED.items()
        for unit in units
        if not (systemd / target / unit).is_symlink()
    ]
    problems += [
        f"{unit} is enabled: SSH must stay off until a key is configured"
        for unit in DISABLED
        if (systemd / "multi-user.target.wants" / unit).exists()
    ]
    problems += check_users(root)
    for rel, mode in MODES.items():
        path = root / rel
        if not path.exists():
            problems.append(f"/{rel}: missing")
            continue
        st = path.lstat()
        if stat.S_IMODE(st.st_mode) != mode or st.st_uid != 0:
            problems.append(
                f"/{rel}: mode {stat.S_IMODE(st.st_mode):o} uid {st.st_uid}, want {mode:o} uid 0"
            )
    venv = root / "opt/homehub/venv/bin/homehub"
    if not venv.exists():
        problems.append("/opt/homehub/venv/bin/homehub: the hub is not installed")
    if (root / "opt/homehub/wheels").exists():
        problems.append("/opt/homehub/wheels: the wheelhouse was left in the image")
    link = root / "etc/homehub"
    if not link.is_symlink() or os.readlink(link) != "/var/lib/homehub/etc":
        problems.append("/etc/homehub: must link to the data partition (/var/lib/homehub/etc)")
    problems += check_secrets(root)
    return problems


def check_users(root: Path) -> list[str]:
    """The service user exists without a login; nobody has a usable password."""
    problems = []
    passwd = {
        line.split(":")[0]: line.split(":")
        for line in (root / "etc/passwd").read_text().splitlines()
    }
    user = passwd.get("homehub")
    if user is None:
        problems.append("user homehub: missing")
    else:
        if int(user[2]) >= 1000:
            problems.append(f"user homehub: uid {user[2]} is not a system uid")
        if not user[6].endswith("nologin"):
            problems.append(f"user homehub: shell {user[6]}, want nologin")
    for line in (root / "etc/shadow").read_text().splitlines():
        name, pw = line.split(":")[:2]
        if pw and pw[0] not in "!*":
            problems.append(f"user {name}: has a usable password (no default passwords)")
    return problems


def check_secrets(root: Path) -> list[str]:
    """Nothing per-device or secret may be baked into the image."""
    problems = []
    host_keys = sorted((root / "etc/ssh").glob("ssh_host_*"))
    if host_keys:
        problems.append(f"SSH host keys baked in: {', '.join(p.name for p in host_keys)}")
    machine_id = root / "etc/machine-id"
    if machine_id.exists() and machine_id.read_text().strip():
        problems.append("/etc/machine-id is set (every device would share it)")
    data = root / "var/lib/homehub"
    if data.exists() and any(data.iterdir()):
        problems.append("/var/lib/homehub is not empty (state or keys baked in)")
    for top in SECRET_DIRS:
        for dirpath, _dirs, files in os.walk(root / top):
            for name in files:
                path = Path(dirpath) / name
                try:
                    if path.is_symlink() or path.stat().st_size > MAX_SCAN:
                        continue
                    if PRIVATE_KEY.search(path.read_bytes()):
                        problems.append(f"/{path.relative_to(root)}: holds a private key")
                except OSError:
                    continue
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1])
    problems = check(root)
    for problem in problems:
        print(f"rootfs: {problem}", file=sys.stderr)
    if not problems:
        print(f"rootfs: {root}: units, users, modes and secrets as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
