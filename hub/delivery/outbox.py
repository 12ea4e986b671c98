"""The outbox: sealed summaries as plain files, written so a pulled plug never leaves half of one.

Each summary is a pair, ``NAME.summary.age`` and ``NAME.summary.age.sig``. Both are written to
temporary files in the same directory and fsynced; then the ``.age`` is renamed into place, the
``.sig`` last, and the directory is fsynced. A summary exists for readers only once its ``.sig``
does, so none ever takes half a pair.

Start-up recovery removes temporary files a crash left and ``.age`` files without a ``.sig``
(an interrupted ``put``): the store marks a day sealed only after ``put`` returns, so such a day
is still unsealed there and is sealed again. Delivered pairs move to ``delivered/`` (the ``.age``
first); recovery finishes a move that a crash interrupted.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hub.atomic import fsync_dir, write_synced
from hub.errors import StoreError
from hub.summary.seal import SIG_SUFFIX, SUFFIX

_LOGGER = logging.getLogger(__name__)

TMP_PREFIX: Final = ".tmp-"
"""Temporary files start with this (hidden, never matched by ``*.summary.age``)."""
DELIVERED_DIR: Final = "delivered"
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A complete sealed summary in the outbox."""

    name: str
    """The stem, ``<participant>_<date>``."""
    age: Path
    sig: Path
    delivered: bool


@dataclass(frozen=True, slots=True)
class Recovery:
    """What start-up recovery found."""

    removed_tmp: tuple[str, ...] = ()
    """Temporary files of interrupted writes, removed."""
    incomplete: tuple[str, ...] = ()
    """``.age`` files that never got their ``.sig``, removed (their day is sealed again)."""
    finished_moves: tuple[str, ...] = ()
    """Pairs whose move to ``delivered/`` a crash interrupted, completed."""


class Outbox:
    """A directory of sealed summaries waiting for delivery (blocking I/O: call off the loop)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.done = directory / DELIVERED_DIR
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as err:
            raise StoreError(f"{directory}: cannot create the outbox: {err.strerror}") from err
        self.recovery = self.recover()

    def put(self, name: str, ciphertext: bytes, signature: bytes) -> Path:
        """Store a sealed summary atomically (replacing one of the same name); the ``.age`` path."""
        name = _check_name(name)
        age, sig = self.dir / (name + SUFFIX), self.dir / (name + SIG_SUFFIX)
        try:
            tmp_age = _write_tmp(age, ciphertext)
            tmp_sig = _write_tmp(sig, signature)
            # an older pair of this name stops being complete before its .age changes
            sig.unlink(missing_ok=True)
            tmp_age.replace(age)
            tmp_sig.replace(sig)
            fsync_dir(self.dir)
        except OSError as err:
            raise StoreError(f"outbox: cannot write {age.name}: {err.strerror}") from err
        return age

    def list(self) -> list[OutboxEntry]:
        """Every complete summary, pending and delivered, by name."""
        entries = [_entry(p, delivered=False) for p in self._complete(self.dir)]
        entries += [_entry(p, delivered=True) for p in self._complete(self.done)]
        return sorted(entries, key=lambda e: (e.name, e.delivered))

    def pending(self) -> builtins.list[Path]:
        """``.age`` paths of complete summaries not delivered yet, oldest name first."""
        return self._complete(self.dir)

    def mark_delivered(self, age: Path | str) -> None:
        """Move a delivered pair to ``delivered/`` (kept for USB export until space is needed)."""
        name = _check_name(age.name.removesuffix(SUFFIX) if isinstance(age, Path) else age)
        src_age, src_sig = self.dir / (name + SUFFIX), self.dir / (name + SIG_SUFFIX)
        if not (src_age.exists() and src_sig.exists()):
            raise StoreError(f"outbox: {name + SUFFIX} is not a pending summary")
        try:
            self.done.mkdir(exist_ok=True, mode=0o700)
            src_age.replace(self.done / src_age.name)
            src_sig.replace(self.done / src_sig.name)
            fsync_dir(self.done)
            fsync_dir(self.dir)
        except OSError as err:
            raise StoreError(f"outbox: cannot move {name} to delivered: {err.strerror}") from err

    def recover(self) -> Recovery:
        """Remove what interrupted writes left and finish interrupted moves; report both."""
        removed = [p.name for p in self.dir.glob(TMP_PREFIX + "*")]
        for tmp in removed:
            (self.dir / tmp).unlink(missing_ok=True)
        finished = []
        for sig in self.dir.glob("*" + SIG_SUFFIX):
            age = self.dir / sig.name.removesuffix(".sig")
            if not age.exists() and (self.done / age.name).exists():
                sig.replace(self.done / sig.name)
                finished.append(age.name)
        incomplete = [p.name for p in self.dir.glob("*" + SUFFIX) if not _sig_of(p).exists()]
        for name in incomplete:
            (self.dir / name).unlink()
        if removed or incomplete or finished:
            fsync_dir(self.dir)
        for name in removed:
            _LOGGER.warning("outbox: removed %s left by an interrupted write", name)
        for name in incomplete:
            _LOGGER.warning("outbox: removed %s, whose signature was never written", name)
        return Recovery(tuple(removed), tuple(incomplete), tuple(finished))

    def _complete(self, directory: Path) -> builtins.list[Path]:
        if not directory.is_dir():
            return []
        return sorted(p for p in directory.glob("*" + SUFFIX) if _sig_of(p).exists())


def _entry(age: Path, *, delivered: bool) -> OutboxEntry:
    return OutboxEntry(age.name.removesuffix(SUFFIX), age, _sig_of(age), delivered)


def _check_name(name: str) -> str:
    name = name.removesuffix(SUFFIX)
    if not _NAME.fullmatch(name):
        msg = f"outbox name {name!r}: expected <participant>_<date> of A-Z a-z 0-9 . _ -"
        raise StoreError(msg)
    return name


def _sig_of(age: Path) -> Path:
    return age.with_name(age.name + ".sig")


def _write_tmp(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    write_synced(tmp, data)
    return tmp
