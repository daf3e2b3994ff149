"""Errors that the command line turns into exit codes.

``InputError`` is the user's problem (exit 2): a missing, empty or unreadable file, a bad
config key. Its message is one line that names the file, row, key or time, because auditors
read it, not developers. Anything else escaping the library is an internal error (exit 3).

``DiskFull`` is an InputError too: a write that ran out of space is not a bug, and the one thing
to do (free space, run again) fits in one line. :func:`is_disk_full` recognises the ways a full
disk shows up (an OSError, or a database's own "disk is full"); :func:`disk_full` words it.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path


def displayable(text: str | Path) -> str:
    """A file name or path as text that can be printed and written to JSON.

    NVR exports copied from Windows often carry GBK-encoded Chinese names, which Linux hands
    to Python as undecodable bytes (surrogates); those are decoded as GB18030, and any other
    name that is not UTF-8 is shown with backslash escapes.
    """
    raw = os.fsencode(str(text))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


class InputError(Exception):
    """Bad input or usage. ``str(err)`` is a one-line reason naming what is wrong and where."""

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = None if path is None else displayable(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


#: errno values that mean "no space left": the disk is full, or the user's quota is used up.
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # sqlite3.Error.sqlite_errorcode: "database or disk is full"
_PG_DISK_FULL = "53100"  # PostgreSQL SQLSTATE disk_full


class DiskFull(InputError):
    """Writing ran out of disk space or quota. Build it with :func:`disk_full`."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or quota) is full.

    An OSError with ENOSPC or EDQUOT, SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100), also
    when SQLAlchemy wraps the driver's error (``exc.orig``), and a :class:`DiskFull` already worded.
    """
    if isinstance(exc, DiskFull) or (isinstance(exc, OSError) and exc.errno in NO_SPACE):
        return True
    if getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL or getattr(exc, "sqlstate", None) == _PG_DISK_FULL:
        return True
    orig = getattr(exc, "orig", None)
    return isinstance(orig, BaseException) and orig is not exc and is_disk_full(orig)


def free_bytes(where: str | Path) -> int | None:
    """Bytes free for writing in the filesystem holding ``where`` (its nearest existing folder)."""
    path = Path(where)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def disk_full(where: str | Path, what: str | None = None, needs: int | None = None, kept: int = 0) -> DiskFull:
    """The one-line message for a full disk: how much is free in ``where``, what did not fit, and
    how much the server keeps free on top (``kept``).

    Example: ``磁盘空间不足 / disk full: 4096 bytes free in /srv/examaudit-data, upload 1号考场.mp4
    needs 52428800 bytes; free space and try again``.
    """
    free = free_bytes(where)
    msg = f"磁盘空间不足 / disk full: {'?' if free is None else free} bytes free in {displayable(where)}"
    if what:
        msg += f", {what} needs {needs} bytes" if needs is not None else f" (writing {what})"
    if kept:
        msg += f" and {kept} are kept free"
    return DiskFull(msg + "; free space and try again")
