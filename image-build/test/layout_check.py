#!/usr/bin/env python3
"""Check our pi-gen stage against pi-gen's conventions, so a file pi-gen would ignore fails here.

pi-gen runs, for each sub-stage directory in order and each NN from 00 to 99: NN-debconf,
NN-packages-nr, NN-packages, NN-patches/, NN-run.sh (only if executable), NN-run-chroot.sh; a
stage starts with an executable prerun.sh (which must call copy_previous), exports an image if
it has EXPORT_IMAGE, and its scripts see only exported config variables.

Usage: layout_check.py IMAGE_BUILD_DIR   (exit 1 with one line per problem)
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

STAGE = "stage-homehub"
STAGE_FILES = {"prerun.sh", "EXPORT_IMAGE", "EXPORT_NOOBS", "SKIP", "SKIP_IMAGES"}
SUBSTAGE_RE = re.compile(r"^\d\d-[a-z0-9][a-z0-9-]*$")
STEP_RE = re.compile(r"^\d\d-(debconf|packages-nr|packages|run\.sh|run-chroot\.sh)$")
PATCHES_RE = re.compile(r"^\d\d-patches$")
ASSIGN_RE = re.compile(r"^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)=")
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")


def check(root: Path) -> list[str]:
    """Every convention broken under ``root`` (the image-build directory)."""
    stage = root / STAGE
    problems = check_stage(stage)
    problems += check_config(root / "config")
    build = root / "build.sh"
    if "stage2/SKIP_IMAGES" not in build.read_text():
        problems.append(f"{build}: must touch stage2/SKIP_IMAGES (Lite must not export an image)")
    return problems


def check_stage(stage: Path) -> list[str]:
    """Problems in one stage directory."""
    problems: list[str] = []
    prerun = stage / "prerun.sh"
    if not prerun.is_file():
        problems.append(f"{prerun}: missing (the stage would start from an empty root)")
    else:
        if not os.access(prerun, os.X_OK):
            problems.append(f"{prerun}: not executable (pi-gen skips it silently)")
        if "copy_previous" not in prerun.read_text():
            problems.append(f"{prerun}: does not call copy_previous")
    if not (stage / "EXPORT_IMAGE").is_file():
        problems.append(f"{stage}/EXPORT_IMAGE: missing (no image would be exported)")
    for entry in sorted(stage.iterdir()):
        if entry.is_dir():
            if not SUBSTAGE_RE.match(entry.name):
                problems.append(f"{entry}: sub-stage names are NN-name (they run in name order)")
            problems += check_substage(entry)
        elif entry.name not in STAGE_FILES:
            problems.append(f"{entry}: pi-gen ignores this file in a stage directory")
    return problems


def check_substage(sub: Path) -> list[str]:
    """Problems in one sub-stage directory."""
    problems: list[str] = []
    steps = 0
    for entry in sorted(sub.iterdir()):
        name = entry.name
        if entry.is_dir():
            if name == "files" or PATCHES_RE.match(name):
                continue
            problems.append(f"{entry}: pi-gen ignores this directory (only files/, NN-patches/)")
        elif not STEP_RE.match(name):
            problems.append(
                f"{entry}: pi-gen ignores this file (expected NN-debconf, NN-packages-nr, "
                "NN-packages, NN-run.sh or NN-run-chroot.sh)"
            )
        else:
            steps += 1
            if name.endswith("-run.sh") and not os.access(entry, os.X_OK):
                problems.append(f"{entry}: not executable (pi-gen skips it silently)")
            if name.endswith(("packages", "packages-nr")):
                problems += check_packages(entry)
            if name.endswith(".sh") and not entry.read_text().startswith("#!/bin/bash"):
                problems.append(f"{entry}: start with #!/bin/bash -e as pi-gen's own scripts do")
    if steps == 0:
        problems.append(f"{sub}: no step pi-gen would run")
    return problems


def check_packages(path: Path) -> list[str]:
    """A package list: names only, comments allowed."""
    return [
        f"{path}:{n}: {word!r} is not a package name"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        for word in line.split("#", 1)[0].split()
        if not PACKAGE_RE.match(word)
    ]


def check_config(config: Path) -> list[str]:
    """Every variable the config sets must be exported, or stage scripts never see it."""
    problems = []
    for n, line in enumerate(config.read_text().splitlines(), 1):
        match = ASSIGN_RE.match(line)
        if match and not match.group(1):
            problems.append(f"{config}:{n}: {match.group(2)} is set but not exported")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    problems = check(root)
    for problem in problems:
        print(f"layout: {problem}", file=sys.stderr)
    if not problems:
        print(f"layout: {root / STAGE} follows pi-gen's conventions")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
