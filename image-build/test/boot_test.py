#!/usr/bin/env python3
"""Boot an image in qemu-system-aarch64 and check what first boot and the hub did.

The VM's probe unit (probe.sh) prints "HHPROBE key: value" lines on the serial console; this
harness reads them, checks the web page and the firewall from the host through forwarded
ports, and waits for the VM to power off. Usage:

    boot_test.py IMAGE --expect good --hostname NAME
    boot_test.py IMAGE --expect reboot --hostname NAME   (the same image again: settings kept)
    boot_test.py IMAGE --expect bad --error-text "did you mean"
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("HH_CACHE", HERE.parent / ".cache"))
BOOT_TIMEOUT_S = int(os.environ.get("HH_BOOT_TIMEOUT", "900"))
ADMITTED = {("tcp", 80), ("tcp", 8080), ("tcp", 22), ("udp", 5353), ("udp", 68), ("udp", 546)}
"""What nftables.conf admits from the LAN; any other non-loopback listener is a finding."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def boot(image: Path, log: Path, web_port: int, canary_port: int) -> subprocess.Popen[bytes]:
    kernel = CACHE / "kernel" / "vmlinuz"
    initrd = CACHE / "initramfs.cpio.gz"
    fwd = f"hostfwd=tcp:127.0.0.1:{web_port}-:8080,hostfwd=tcp:127.0.0.1:{canary_port}-:9999"
    cmd = [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1536",
        "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", "console=ttyAMA0 root=/dev/vda2 rootwait panic=-1 net.ifnames=0",
        "-drive", f"file={image},format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0",
        "-netdev", f"user,id=n0,restrict=on,{fwd}", "-device", "virtio-net-pci,netdev=n0,romfile=",
        "-device", "virtio-rng-pci",
        "-display", "none", "-monitor", "none", "-serial", f"file:{log}", "-no-reboot",
    ]  # fmt: skip
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL)


class Console:
    """The serial log, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.probe: dict[str, list[str]] = {}
        self.times: dict[str, float] = {}
        self.start = time.monotonic()

    def poll(self) -> str:
        text = self.path.read_text(errors="replace") if self.path.exists() else ""
        for line in text.splitlines():
            m = re.search(r"HHPROBE ([a-z-]+)(?:: ?(.*))?$", line)
            if m:
                key = m.group(1)
                if key not in self.times:
                    self.times[key] = time.monotonic() - self.start
                values = self.probe.setdefault(key, [])
                if len(values) < text.count(f"HHPROBE {key}"):
                    values.append((m.group(2) or "").strip())
            for marker in ("homehub-firstboot: ok", "homehub-firstboot: FAILED"):
                if marker in line and marker not in self.times:
                    self.times[marker] = time.monotonic() - self.start
        return text

    def one(self, key: str) -> str:
        return self.probe.get(key, [""])[0]

    def b64(self, key: str) -> str:
        return base64.b64decode(self.one(key) or b"").decode(errors="replace")


def http_get(port: int, timeout: float) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except Exception:  # noqa: BLE001 - any failure means "no answer"
        return None


def check_listeners(console: Console, problems: list[str]) -> None:
    for entry in console.probe.get("listen", []):
        proto, local = entry.split()[:2]
        addr, _, port = local.rpartition(":")
        if addr.startswith(("127.", "[::1]", "::1")) or "%lo" in addr:
            continue
        if (proto, int(port)) not in ADMITTED:
            problems.append(f"listening socket not admitted by the firewall: {proto} {local}")


def run(args: argparse.Namespace) -> int:
    log = args.image.with_suffix(".serial.log")
    log.unlink(missing_ok=True)
    web_port, canary_port = free_port(), free_port()
    vm = boot(args.image, log, web_port, canary_port)
    console = Console(log)
    host_web: tuple[int, str] | None = None
    canary_answer: tuple[int, str] | None = None
    canary_tried = False
    try:
        while vm.poll() is None and time.monotonic() - console.start < BOOT_TIMEOUT_S:
            time.sleep(2)
            console.poll()
            if "canary" in console.probe and not canary_tried:
                canary_tried = True
                host_web = http_get(web_port, 20)
                canary_answer = http_get(canary_port, 8)
        vm.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
    text = console.poll()
    elapsed = time.monotonic() - console.start
    problems = check(args, console, host_web, canary_answer, canary_tried)
    if vm.returncode is None or "end" not in console.probe:
        problems.append(f"the VM did not finish and power off within {BOOT_TIMEOUT_S} s")
    print(f"boot {args.expect}: {elapsed:.0f} s to power-off; milestones (s):")
    for key, t in sorted(console.times.items(), key=lambda kv: kv[1]):
        if key in ("begin", "canary", "end") or key.startswith("homehub-firstboot"):
            print(f"  {t:6.0f}  {key}")
    print(f"  probe waited {console.one('waited')} s for the web page")
    for problem in problems:
        print(f"boot {args.expect}: FAIL {problem}", file=sys.stderr)
    if problems:
        print("---- serial console (last 60 lines) ----", file=sys.stderr)
        print("\n".join(text.splitlines()[-60:]), file=sys.stderr)
        print("---- hub journal ----\n" + console.b64("journal-hub"), file=sys.stderr)
        return 1
    print(f"boot {args.expect}: ok")
    return 0


def check(
    args: argparse.Namespace,
    console: Console,
    host_web: tuple[int, str] | None,
    canary: tuple[int, str] | None,
    canary_tried: bool,
) -> list[str]:
    problems: list[str] = []
    if "begin" not in console.probe:
        return ["the probe never ran: boot did not reach multi-user.target"]
    firstboot = json.loads(console.b64("firstboot") or "{}")
    page = html.unescape(console.b64("page"))  # the page escapes quotes; read it as shown
    boot_files = console.one("boot-files").split()
    if console.one("firstboot-unit") != "active":
        problems.append(f"homehub-firstboot.service is {console.one('firstboot-unit')}")
    if "inet homehub" not in console.one("nft"):
        problems.append(f"firewall not loaded: nft tables: {console.one('nft')!r}")
    if console.one("root") != "overlay":
        problems.append(f"root is {console.one('root')!r}, not the read-only overlay")
    if not console.one("data").endswith("ext4") or "vda3" not in console.one("data"):
        problems.append(f"data partition not created and mounted: {console.one('data')!r}")
    if console.one("journal-persistent") != "0":
        problems.append("journald wrote persistent journal files")
    if console.one("ssh") == "active":
        problems.append("sshd is running although no key was given")
    check_listeners(console, problems)
    if not canary_tried:
        problems.append("the probe's canary port never opened")
    elif canary is not None:
        problems.append("a port the firewall must drop (9999) answered from outside")
    if args.expect in ("good", "reboot"):
        if not firstboot.get("ok") or firstboot.get("imported") != (args.expect == "good"):
            problems.append(f"first boot did not apply the file: {firstboot}")
        applied = " ".join(firstboot.get("applied", []))
        key_state = "generated" if args.expect == "good" else "kept"
        if f"device key {key_state}" not in applied:
            problems.append(f"device key not {key_state}: {applied}")
        if "homehub.toml" in boot_files or "homehub-imported.txt" not in boot_files:
            problems.append(f"homehub.toml was not moved off the boot partition: {boot_files}")
        if console.one("hostname") != args.hostname:
            problems.append(f"hostname is {console.one('hostname')!r}, want {args.hostname!r}")
        if console.one("hub") != "active":
            problems.append(f"homehub.service is {console.one('hub')}")
        if console.one("failed"):
            problems.append(f"failed units: {console.one('failed')}")
        if console.one("web") != "200" or host_web is None or host_web[0] != 200:
            problems.append(
                f"web page: in VM {console.one('web')}, from host {host_web and host_web[0]}"
            )
    else:
        errors = " ".join(firstboot.get("errors", []))
        if firstboot.get("ok") or args.error_text not in errors:
            problems.append(f"first boot did not report {args.error_text!r}: {firstboot}")
        if "homehub.toml" not in boot_files:
            problems.append("the bad homehub.toml was removed from the boot partition")
        if args.error_text not in page:
            problems.append("the error is not on the local web page")
        if host_web is None or args.error_text not in html.unescape(host_web[1]):
            problems.append("the error page is not reachable from the LAN side")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", type=Path)
    parser.add_argument("--expect", choices=("good", "reboot", "bad"), required=True)
    parser.add_argument("--hostname", default="homehub")
    parser.add_argument("--error-text", default="did you mean")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
