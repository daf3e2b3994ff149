"""The chain-of-custody log: who did what, when, with which tool version and parameters.

An evidence pack has to show that the footage examined is the footage received and what
was done to it at every step. Each step appends one JSON line to ``custody.jsonl``; lines
are never rewritten, and each carries the sha256 of the previous line so that a removed or
edited line breaks the chain visibly.
"""

from __future__ import annotations

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

    def _last_hash(self) -> str:
        if not self.path.exists():
            return GENESIS
        last = None
        with open(self.path, "rb") as fh:
            for line in fh:
                if line.strip():
                    last = line.rstrip(b"\n")
        return hashlib.sha256(last).hexdigest() if last else GENESIS

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
        entry = {
            "at": now_utc().isoformat(),
            "actor": actor or _actor(),
            "action": action,
            "tool": "examaudit",
            "tool_version": __version__,
            "inputs": inputs or {},
            "outputs": outputs or {},
            "parameters": parameters or {},
            "note": note,
            "prev_sha256": self._last_hash(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")
        with open(self.path, "ab", buffering=0) as fh:
            start = os.fstat(fh.fileno()).st_size
            try:
                written = 0
                while written < len(line):
                    written += fh.write(line[written:])
            except OSError:
                # A half line (a full disk) would break the chain for every later entry: give it back.
                os.ftruncate(fh.fileno(), start)
                raise
        return entry


def read_custody(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def check_chain(path: str | Path) -> list[str]:
    """Problems with the hash chain (empty when intact): which line breaks it and why."""
    problems: list[str] = []
    prev = GENESIS
    for n, raw in enumerate(Path(path).read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        entry = json.loads(raw)
        if entry.get("prev_sha256") != prev:
            problems.append(f"custody line {n} ({entry.get('action')}) does not follow line {n - 1}")
        prev = hashlib.sha256(raw).hexdigest()
    return problems
