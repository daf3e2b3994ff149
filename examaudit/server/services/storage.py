"""Originals: every received file stored once, by content, read-only (``DATA/originals/<sha256>``)."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from ...errors import InputError

CHUNK = 1024 * 1024
_SAFE_PART = re.compile(r"^[^\x00-\x1f\x7f-\x9f/\\]+$")
# Marks that turn text around (U+202E shows "x\u202Evsc.exe" as "xexe.csv"): a name must read as it is.
_DIRECTION_MARKS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
NAME_MAX_BYTES = 255  # one file name on ext4, xfs, btrfs
_custody_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def custody_lock(path: Path) -> threading.Lock:
    """One lock per custody log: request threads and job threads append to the same chain."""
    with _guard:
        return _custody_locks.setdefault(str(path), threading.Lock())


def check_relative_name(name: str, what: str = "file name") -> str:
    """A relative POSIX path with no ``..``, no absolute root, no NUL or control characters."""
    if not name or "\x00" in name:
        raise InputError(f"{what} {name!r} is empty or contains NUL")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise InputError(f"{what} {name!r} is an absolute path")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise InputError(f"{what} {name!r} leaves its folder ('..')")
    if any(not _SAFE_PART.match(p) for p in parts):
        raise InputError(f"{what} {name!r} contains control characters")
    if _DIRECTION_MARKS.search(norm):
        raise InputError(f"{what} {name!r} contains a text direction mark (such as U+202E), "
                         "which makes a name show as another")
    check_name_lengths(norm, what)
    return "/".join(parts)


def check_name_lengths(path: str, what: str = "file name") -> None:
    """Each name in ``path`` fits the file system (else storing it fails after the whole upload)."""
    for p in path.replace("\\", "/").split("/"):
        if len(p.encode("utf-8")) > NAME_MAX_BYTES:
            raise InputError(f"{what} {p[:32]!r}… is {len(p.encode('utf-8'))} bytes long; "
                             f"a file name may have at most {NAME_MAX_BYTES} bytes (UTF-8)")


def store_original(originals: Path, tmp: Path, sha256: str) -> Path:
    """Move ``tmp`` (already hashed) into ``originals/<sha256>``, or drop it when that exists."""
    dest = originals / sha256
    if dest.exists():
        tmp.unlink()
    else:
        os.chmod(tmp, 0o444)
        os.replace(tmp, dest)
    return dest


def copy_hashed(src: BinaryIO, tmp_dir: Path, limit: int | None = None) -> tuple[Path, str, int]:
    """Copy a stream into a temp file in ``tmp_dir``, hashing as the bytes pass; (path, sha256, size)."""
    h = hashlib.sha256()
    size = 0
    fd, name = _mkstemp(tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise InputError(f"larger than the {limit} bytes it declared or the limit allows")
                h.update(chunk)
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), h.hexdigest(), size


def _mkstemp(tmp_dir: Path) -> tuple[int, str]:
    import tempfile

    tmp_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=".incoming-", dir=tmp_dir)


def link_original(original: Path, where: Path) -> None:
    """Put the original at ``where`` in an exam point folder.

    A hard link: the bytes are stored once and stay read-only, and the file keeps its own name
    (the config resolves symlinks, which would name every recording by its hash). Linked beside
    it first and renamed over it, so a crash never leaves the path empty or half-replaced.
    """
    where.parent.mkdir(parents=True, exist_ok=True)
    tmp = where.parent / f".link-{secrets.token_hex(6)}"
    os.link(original, tmp)
    try:
        os.replace(tmp, where)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def linked_original(original: Path, where: Path) -> Iterator[None]:
    """:func:`link_original`, undone if the block raises: the file that was at ``where`` comes back.

    For an upload whose database row is written after the link: when that write fails (a full
    disk), the folder must not hold bytes no row vouches for, or the next audit would call the
    previous upload changed evidence.
    """
    previous = None
    if where.is_file() and not where.is_symlink():
        previous = where.parent / f".prev-{secrets.token_hex(6)}"
        os.link(where, previous)
    try:
        link_original(original, where)
        yield
    except BaseException:
        if previous is not None:
            os.replace(previous, where)
            previous = None
        else:
            where.unlink(missing_ok=True)
        raise
    finally:
        if previous is not None:
            previous.unlink(missing_ok=True)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
