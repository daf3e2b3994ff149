"""``examaudit backup DIR OUT.tar``: a consistent copy of a server's data directory.

The SQLite files (the database and the job queue) are copied with SQLite's online-backup API,
so the copy is consistent even while `serve` writes; every other file is added as it is
(originals never change; audit folders change only by whole-file replacement). Restore by
untarring into an empty folder and starting `examaudit serve --data` on it.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from ..errors import InputError

SQLITE_FILES = ("examaudit.db", "queue.db")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup",
        help="copy a server data directory into one tar file (consistent while the server runs)",
        description="Write DIR (the `examaudit serve --data` folder) into OUT.tar. The SQLite database and "
        "job queue are copied with SQLite's online-backup API; with a PostgreSQL --db, back that up with "
        "pg_dump as well.",
    )
    p.add_argument("data_dir", type=Path, metavar="DIR", help="the data directory")
    p.add_argument("out", type=Path, metavar="OUT.tar", help="the tar file to write")
    p.set_defaults(run=run)


def sqlite_copy(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (the online-backup API, WAL included)."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30) as source, sqlite3.connect(dest) as target:
        source.backup(target)
    # sqlite3's context manager commits but does not close
    source.close()
    target.close()


def backup(data_dir: Path, out: Path) -> int:
    """Write the tar; returns the number of files in it."""
    if not data_dir.is_dir():
        raise InputError("data directory not found", path=data_dir)
    out = out.resolve()
    n = 0
    tmp_out = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(tmp_out, "w") as tar:
        for name in SQLITE_FILES:
            if (data_dir / name).is_file():
                sqlite_copy(data_dir / name, Path(tmp) / name)
                tar.add(Path(tmp) / name, arcname=name)
                n += 1
        skip = {*SQLITE_FILES, *(f"{s}-wal" for s in SQLITE_FILES), *(f"{s}-shm" for s in SQLITE_FILES)}
        for root, dirs, files in os.walk(data_dir):
            dirs.sort()
            rel_root = Path(root).relative_to(data_dir)
            for f in sorted(files):
                rel = rel_root / f
                if str(rel) in skip or Path(root, f).resolve() == tmp_out:
                    continue
                tar.add(Path(root, f), arcname=str(rel), recursive=False)
                n += 1
    os.replace(tmp_out, out)
    return n


def run(args: argparse.Namespace) -> int:
    n = backup(args.data_dir, args.out)
    print(f"{args.out}: {n} files from {args.data_dir} (SQLite copied with the online-backup API)")
    return 0
