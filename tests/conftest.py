"""Fixtures shared by every test directory: the real ``age`` tool and researcher identities."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyrage
import pytest


@pytest.fixture
def age_bin() -> str:
    """Path of the real ``age`` binary; a CI run without it fails instead of skipping."""
    path = shutil.which("age")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the `age` tool is missing (scripts/setup installs the Debian package)")
        pytest.skip("the `age` tool is not installed")
    return path


@pytest.fixture
def identity() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


@pytest.fixture
def identity_file(tmp_path: Path, identity: pyrage.x25519.Identity) -> Path:
    path = tmp_path / "researcher.key"
    path.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
    path.chmod(0o600)
    return path
