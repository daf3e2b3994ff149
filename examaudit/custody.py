"""The chain-of-custody log: who did what, when, with which tool version and parameters.

An evidence pack has to show that the footage examined is the footage received and what
was done to it at every step. Each step appends one JSON line to ``custody.jsonl``; lines
are never rewritten, and each carries the sha256 of the previous line so that a removed or
edited line breaks the chain visibly.

A process killed or a disk filled in the middle of an append can leave a torn last line (no
newline, not valid JSON). It is never deleted or rewritten: the next append ends it with a
newline and records it as a ``custody entry torn`` entry (its sha256, length and text), and
the chain runs on from the last whole entry. :func:`check_chain` accepts a torn line only
when the entry right after it records exactly those bytes.
"""

from __future__ import annotations

import errno
import getpass
import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from . import __version__
from .findings import now_utc

GENESIS = "0" * 64
#: The action of the entry that records a torn line (see the module docstring).
TORN = "custody entry torn"


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return os.environ.get("EXAMAUDIT_AUDITOR") or f"{user}@{socket.gethostname()}"


class CustodyLog:
    """Append-only JSON-lines log with a hash chain.

    Example:
        >>> import tempfile
        >>> log = CustodyLog(Path(tempfile.mkdtemp()) / "custody.jsonl")
        >>> sha = "ab" * 32                                         # sha256 of R1-C1.mp4
        >>> entry = log.append("ingest", inputs={"R1-C1.mp4": sha}, parameters={})
        >>> entry["action"], entry["prev_sha256"] == GENESIS
        ('ingest', True)
        >>> _ = log.append("analyze", inputs={"R1-C1.mp4": sha}, parameters={"interval_s": 5})
        >>> [e["action"] for e in read_custody(log.path)], check_chain(log.path)
        (['ingest', 'analyze'], [])
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _mend_torn_tail(self) -> str:
        """The hash the next entry chains to; a torn last line is closed and recorded first."""
        if not self.path.exists():
            return GENESIS
        data = _tail(self.path)
        lines = [line for line in data.split(b"\n") if line.strip()]
        if not lines:
            return GENESIS
        if data.endswith(b"\n"):
            return hashlib.sha256(lines[-1]).hexdigest()
        tail = data[data.rfind(b"\n") + 1:]
        if _parses(tail):  # a whole entry that only lost its newline
            self._write(b"\n")
            return hashlib.sha256(tail).hexdigest()
        prev = hashlib.sha256(lines[-2]).hexdigest() if len(lines) > 1 else GENESIS
        record = self._line({
            "action": TORN, "actor": _actor(), "inputs": {}, "outputs": {},
            "parameters": {"torn_sha256": hashlib.sha256(tail).hexdigest(), "torn_bytes": len(tail)},
            "note": "the line above was cut short by an interrupted write and is kept as it was: "
                    + tail.decode("utf-8", "replace")[:2000],
        }, prev)
        self._write(b"\n" + record)
        return hashlib.sha256(record.rstrip(b"\n")).hexdigest()

    def _line(self, fields: dict[str, Any], prev: str) -> bytes:
        entry = {"at": now_utc().isoformat(), "tool": "examaudit", "tool_version": __version__, **fields,
                 "prev_sha256": prev}
        return (json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")

    def _write(self, data: bytes) -> None:
        # One write() on an O_APPEND descriptor: a kill -9 cannot split a line between two
        # system calls, and the bytes land after whatever another writer appended.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size
            try:
                written = os.write(fd, data)
            except OSError:
                _give_back(fd, start)
                raise
            if written < len(data):
                _give_back(fd, start)
                raise OSError(errno.ENOSPC, f"custody entry cut short at {written} of {len(data)} bytes "
                              "(disk full?)", str(self.path))
        finally:
            os.close(fd)

    def append(
        self,
        action: str,
        *,
        inputs: dict[str, str] | None = None,
        outputs: dict[str, str] | None = None,
        parameters: dict[str, Any] | None = None,
        note: str | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Record one step. ``inputs``/``outputs`` map file names to their sha256.

        ``actor`` names who did it when that is not this process's user (the server's logged-in user).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fields = {
            "actor": actor or _actor(),
            "action": action,
            "inputs": inputs or {},
            "outputs": outputs or {},
            "parameters": parameters or {},
            "note": note,
        }
        line = self._line(fields, self._mend_torn_tail())
        self._write(line)
        return json.loads(line)


def _give_back(fd: int, start: int) -> None:
    """Cut a line this process could not finish (a full disk) instead of leaving a torn entry for
    every later one to step over; if even that fails, the next append records the torn tail."""
    try:
        os.ftruncate(fd, start)
    except OSError:
        pass


def _tail(path: Path, size: int = 1 << 16) -> bytes:
    """The end of the log holding at least its last two lines (or the whole log).

    Every append needs only the last entry; reading the whole log made each one cost more than
    the one before (the server appends one per evidence view and download).
    """
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        while True:
            start = max(0, end - size)
            fh.seek(start)
            data = fh.read(end - start)
            if start == 0 or data.count(b"\n") >= 3:
                # past the first newline the lines are whole; before it, a line cut by the window
                return data if start == 0 else data[data.index(b"\n") + 1:]
            size *= 4


def _parses(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return False


def _entries(path: str | Path) -> list[tuple[int, bytes, dict[str, Any] | None]]:
    """(line number, raw bytes, entry) for each non-empty line; entry None for a torn line."""
    lines = [(n, raw) for n, raw in enumerate(Path(path).read_bytes().split(b"\n"), start=1) if raw.strip()]
    return [(n, raw, json.loads(raw) if _parses(raw) else None) for n, raw in lines]


def _recorded_torn(raw: bytes, following: dict[str, Any] | None) -> bool:
    """Whether ``following`` is the entry recording ``raw`` as a torn line."""
    return (following is not None and following.get("action") == TORN
            and following.get("parameters", {}).get("torn_sha256") == hashlib.sha256(raw).hexdigest())


def read_custody(path: str | Path) -> list[dict[str, Any]]:
    """The entries, in order; a torn line is left out (the entry after it records it).

    Raises json.JSONDecodeError (or UnicodeDecodeError) for any other line that is not JSON."""
    found = _entries(path)
    out = []
    for i, (_, raw, entry) in enumerate(found):
        if entry is None:
            if i + 1 == len(found) or _recorded_torn(raw, found[i + 1][2]):
                continue  # the torn tail the next append will record, or recorded already
            json.loads(raw)  # raises, naming what is wrong
        out.append(entry)
    return out


def check_chain(path: str | Path) -> list[str]:
    """Problems with the hash chain (empty when intact): which line breaks it and why.

    A torn line (an interrupted write) is no problem when the entry after it records its exact
    bytes; a torn last line, not yet recorded, is reported."""
    problems: list[str] = []
    prev = GENESIS
    found = _entries(path)
    for i, (n, raw, entry) in enumerate(found):
        if entry is None:
            following = found[i + 1][2] if i + 1 < len(found) else None
            if not _recorded_torn(raw, following):
                problems.append(f"custody line {n} is not a whole entry" + (
                    " (a torn last line: an interrupted write; the next entry will record it)"
                    if following is None and i + 1 == len(found) else ""))
            continue
        if entry.get("prev_sha256") != prev:
            problems.append(f"custody line {n} ({entry.get('action')}) does not follow line {n - 1}")
        prev = hashlib.sha256(raw).hexdigest()
    return problems
