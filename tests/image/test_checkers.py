"""The image tier's own checkers fail on what they exist to catch (a stage pi-gen would ignore,
a baked secret, a usable password), and pass on our stage."""

from __future__ import annotations

import importlib.util
import shutil
import stat
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.image

IMAGE_BUILD = Path(__file__).parents[2] / "image-build"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, IMAGE_BUILD / "test" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


layout_check = load("layout_check")
check_rootfs = load("check_rootfs")


@pytest.fixture
def image_build(tmp_path: Path) -> Path:
    copy = tmp_path / "image-build"
    copy.mkdir()
    shutil.copytree(IMAGE_BUILD / "stage-homehub", copy / "stage-homehub")
    for name in ("config", "build.sh"):
        shutil.copy2(IMAGE_BUILD / name, copy / name)
    return copy


def test_our_stage_follows_pi_gen_conventions(image_build: Path) -> None:
    assert layout_check.check(image_build) == []


def test_non_executable_run_script_is_caught(image_build: Path) -> None:
    script = image_build / "stage-homehub" / "01-hub" / "00-run.sh"
    script.chmod(script.stat().st_mode & ~(stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    (problem,) = layout_check.check(image_build)
    assert "00-run.sh: not executable" in problem


def test_misnamed_step_and_stray_files_are_caught(image_build: Path) -> None:
    sub = image_build / "stage-homehub" / "02-system"
    (sub / "01-run-chroot.sh").rename(sub / "01-run-chroot")
    (image_build / "stage-homehub" / "README.md").write_text("notes\n")
    problems = "\n".join(layout_check.check(image_build))
    assert "01-run-chroot: pi-gen ignores this file" in problems
    assert "README.md: pi-gen ignores this file" in problems


def test_prerun_without_copy_previous_and_missing_export_are_caught(image_build: Path) -> None:
    stage = image_build / "stage-homehub"
    (stage / "prerun.sh").write_text("#!/bin/bash -e\ntrue\n")
    (stage / "EXPORT_IMAGE").unlink()
    problems = "\n".join(layout_check.check(image_build))
    assert "does not call copy_previous" in problems
    assert "EXPORT_IMAGE: missing" in problems


def test_unexported_config_variable_and_stage2_images_are_caught(image_build: Path) -> None:
    config = image_build / "config"
    config.write_text(config.read_text() + 'HOMEHUB_EXTRA="x"\n')
    build = image_build / "build.sh"
    build.write_text(build.read_text().replace("stage2/SKIP_IMAGES", "stage2/SKIP"))
    problems = "\n".join(layout_check.check(image_build))
    assert "HOMEHUB_EXTRA is set but not exported" in problems
    assert "stage2/SKIP_IMAGES" in problems


def test_bad_package_list_is_caught(image_build: Path) -> None:
    packages = image_build / "stage-homehub" / "00-packages" / "00-packages"
    packages.write_text(packages.read_text() + "nftables; rm -rf /\n")
    assert any("is not a package name" in p for p in layout_check.check(image_build))


def make_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\nhomehub:x:999:999::/nonexistent:/usr/sbin/nologin\n"
    )
    (root / "etc" / "shadow").write_text("root:!:19000::::::\nhomehub:!*:19000::::::\n")
    (root / "etc" / "machine-id").write_text("")
    return root


def test_clean_root_has_no_secret_or_password_findings(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    assert check_rootfs.check_users(root) == []
    assert check_rootfs.check_secrets(root) == []


def test_baked_secrets_are_caught(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "etc" / "ssh" / "ssh_host_ed25519_key").write_text("x")
    (root / "etc" / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    key = root / "opt" / "homehub" / "device.pem"
    key.parent.mkdir(parents=True)
    key.write_text("-----BEGIN PRIVATE KEY-----\n" + "A" * 64 + "\n-----END PRIVATE KEY-----\n")
    # a library mentioning the header is not a key
    lib = root / "opt" / "homehub" / "ssh.py"
    lib.write_text('_SK = b"-----BEGIN OPENSSH PRIVATE KEY-----"\n')
    problems = "\n".join(check_rootfs.check_secrets(root))
    assert "ssh_host_ed25519_key" in problems
    assert "machine-id" in problems
    assert "device.pem: holds a private key" in problems
    assert "ssh.py" not in problems


def test_usable_password_and_login_shell_are_caught(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "etc" / "shadow").write_text("root:!:1::::::\nhhadmin:$y$j9T$abc$def:1::::::\n")
    (root / "etc" / "passwd").write_text("homehub:x:1001:1001::/home/h:/bin/bash\n")
    problems = "\n".join(check_rootfs.check_users(root))
    assert "user hhadmin: has a usable password" in problems
    assert "not a system uid" in problems
    assert "shell /bin/bash" in problems
