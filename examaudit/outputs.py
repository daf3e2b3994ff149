"""Writing outputs without ever leaving a half-written result behind.

Everything a command produces is first written into a hidden staging folder next to the
destination and moved into place only when the command succeeds, so a failure (bad input,
crash, Ctrl-C) leaves the destination as it was.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Mapping


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on success its entries replace same-named ones in ``out_dir``.

    A stage left by a process of this machine that was killed (``kill -9``, power cut) is
    removed first: it is a hidden sibling, but ``video/*/*/findings.json`` and the like would
    still match it. (Another machine's stages, on a shared filesystem, are left alone: whether
    its process lives cannot be seen from here.)
    The entries are moved one by one, so a marker saying the result is whole (``done.json``)
    must be written after this block, not into the stage.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{out_dir.name}.partial-"
    for old in out_dir.parent.glob(f"{prefix}*"):
        if _stage_of_a_dead_process(old.name.removeprefix(prefix)):
            shutil.rmtree(old, ignore_errors=True)
    stage = out_dir.parent / f"{prefix}{os.getpid()}@{socket.gethostname()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    out_dir.mkdir(parents=True, exist_ok=True)
    for entry in stage.iterdir():
        target = out_dir / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        entry.rename(target)
    stage.rmdir()


def _stage_of_a_dead_process(tag: str) -> bool:
    """Whether a stage's ``<pid>@<host>`` names a process of this machine that is gone."""
    pid, _, host = tag.partition("@")
    if host != socket.gethostname() or not pid.isascii() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # someone else's process (or no pid at all): leave its folder alone
    return False


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write one file whole or not at all: a temporary sibling, flushed to disk, then renamed over it.

    A full disk or a process killed mid-write leaves the previous file (a good report, the findings
    of the last audit, a ``done.json`` marker a rerun trusts) in place, never half of one; text is
    written as UTF-8.
    """
    path = Path(path)
    # the thread too: a server's page threads and job threads may write in the same process
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: First characters that make Excel, WPS or LibreOffice read a cell as a formula (or, for tab and
#: CR, shift it): "=HYPERLINK(...)", "+cmd|...", "-2+3", "@SUM(...)".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Make text from an input file safe to put in a spreadsheet cell we write (CSV or xlsx).

    A string starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe, which
    Excel and WPS show as text instead of evaluating (OWASP "CSV injection"). Numbers are left
    alone: ``-3.5`` written as a number is data, not a formula. This is the one place the rule
    lives; every writer of CSV or xlsx calls it on cells whose text came from input.

    Example:
        >>> neutralise("=SUM(A1:A9)"), neutralise("EP-01"), neutralise(-3.5)
        ("'=SUM(A1:A9)", 'EP-01', -3.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def path_text(path: str | Path) -> str:
    """A path as text that UTF-8 outputs can hold: a file name that is not valid UTF-8 (bytes
    from another system's encoding) shows U+FFFD where the bad bytes were, instead of crashing
    the JSON or CSV that names it."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def write_csv(path: Path, rows: Iterable[Mapping[str, object]], columns: list[str] | None = None) -> None:
    """Write dict rows; columns default to the union of keys in first-seen order.

    UTF-8 with BOM, because auditors open these in Excel, which otherwise garbles Chinese. Text
    cells are passed through :func:`neutralise`: any of them may carry text from an input file.
    """
    rows = list(rows)
    if columns is None:
        columns = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k)) for k in columns})


def read_csv_rows(path: Path) -> list[dict[str, str]] | None:
    """Rows of a CSV written by :func:`write_csv` (UTF-8 with BOM), or None when there is none."""
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _cell(v: object) -> object:
    if v is None:
        return ""
    if isinstance(v, str):
        return neutralise(v)
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else round(v, 4)
    if isinstance(v, bool):
        return int(v)
    return v


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Stream a file's sha256 in 1 MiB chunks, so multi-GB recordings use no memory."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


_SUMS_LINE = re.compile(r"^(?P<sha>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")


def read_checksums(path: str | Path) -> dict[str, str]:
    """A ``sha256sum`` file (``<64 hex>  <name>`` per line, ``*`` for binary mode) as {name: sha256}.

    This is what an auditor writes when the footage is received (``sha256sum footage/* records/*``
    in the exam point folder), so the audit can prove it examined those bytes. A malformed line is
    an :class:`InputError` naming the file and line, never a silently shorter list.

    Example:
        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "received.sha256"
        >>> _ = f.write_text("# received 2024-06-21\\n" + "ab" * 32 + "  footage/R1-C1.mp4\\n", encoding="utf-8")
        >>> read_checksums(f)
        {'footage/R1-C1.mp4': 'abababababababababababababababababababababababababababababababab'}
    """
    from .errors import InputError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the checksum file ({exc})") from exc
    sums: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SUMS_LINE.match(line.rstrip("\r"))
        if m is None:
            raise InputError(f"{path}, line {n}: expected '<sha256>  <file name>' as sha256sum writes it, "
                             f"got {line[:80]!r}")
        name = m["name"]
        if name in sums and sums[name] != m["sha"].lower():
            raise InputError(f"{path}, line {n}: {name} is listed twice with different sha256")
        sums[name] = m["sha"].lower()
    if not sums:
        raise InputError(f"{path}: no checksums in the file")
    return sums
