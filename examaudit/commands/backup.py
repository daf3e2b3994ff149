"""``examaudit backup DIR OUT.tar``: a consistent copy of a server's data directory.

The SQLite files (the database and the job queue) are copied with SQLite's online-backup API,
so the copy is consistent even while `serve` writes; every other file is added as it is
(originals never change; audit folders change only by whole-file replacement). Restore by
untarring into an empty folder and starting `examaudit serve --data` on it.

With a PostgreSQL database (``--db`` or ``$EXAMAUDIT_DB_URL``, as for `serve`) the tar also holds
``examaudit.pgdump``, pg_dump's custom format of that database (one consistent snapshot); restore
it with ``pg_restore --no-owner -d NEWDB examaudit.pgdump`` and serve with ``--db`` pointing there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ..errors import InputError

SQLITE_FILES = ("examaudit.db", "queue.db")
PG_DUMP_NAME = "examaudit.pgdump"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backup",
        help="copy a server data directory into one tar file (consistent while the server runs)",
        description="Write DIR (the `examaudit serve --data` folder) into OUT.tar. The SQLite database and "
        "job queue are copied with SQLite's online-backup API; a PostgreSQL database (--db) is added as "
        f"{PG_DUMP_NAME} by pg_dump.",
    )
    p.add_argument("data_dir", type=Path, metavar="DIR", help="the data directory")
    p.add_argument("--db", default=None, metavar="URL",
                   help="the server's database URL when it is not SQLite in DIR (default $EXAMAUDIT_DB_URL)")
    p.add_argument("out", type=Path, metavar="OUT.tar", help="the tar file to write")
    p.set_defaults(run=run)


def sqlite_copy(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (the online-backup API, WAL included)."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30) as source, sqlite3.connect(dest) as target:
        source.backup(target)
    # sqlite3's context manager commits but does not close
    source.close()
    target.close()


def pg_dump(url: str, dest: Path) -> None:
    """pg_dump of the database at SQLAlchemy ``url`` into ``dest`` (custom format).

    The connection goes by libpq's environment, so the password is not on a command line that
    every user of the machine can read in the process list.
    """
    from sqlalchemy.engine import make_url

    u = make_url(url)
    exe = shutil.which("pg_dump")
    if exe is None:
        raise InputError("pg_dump not found on PATH: install the PostgreSQL client of the server's version",
                         path=dest)
    env = dict(os.environ)
    for var, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password),
                       ("PGDATABASE", u.database)):
        if value is not None:
            env[var] = str(value)
    done = subprocess.run([exe, "--format=custom", "--no-password", "--file", str(dest)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise InputError(f"pg_dump failed: {done.stderr.strip()[-500:]}", path=dest)


def backup(data_dir: Path, out: Path, db_url: str | None = None) -> int:
    """Write the tar; returns the number of files in it. ``db_url``: a PostgreSQL database to dump too."""
    if not data_dir.is_dir():
        raise InputError("data directory not found", path=data_dir)
    if db_url and not db_url.startswith("postgresql"):
        db_url = None  # an SQLite URL names a file: copied below when it is DIR/examaudit.db
    out = out.resolve()
    n = 0
    tmp_out = out.with_name(out.name + ".partial")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(tmp_out, "w") as tar:
        for name in SQLITE_FILES:
            if (data_dir / name).is_file():
                sqlite_copy(data_dir / name, Path(tmp) / name)
                tar.add(Path(tmp) / name, arcname=name)
                n += 1
        if db_url:
            pg_dump(db_url, Path(tmp) / PG_DUMP_NAME)
            tar.add(Path(tmp) / PG_DUMP_NAME, arcname=PG_DUMP_NAME)
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
    db_url = args.db or os.environ.get("EXAMAUDIT_DB_URL") or None
    n = backup(args.data_dir, args.out, db_url)
    how = f"PostgreSQL by pg_dump as {PG_DUMP_NAME}" if db_url and db_url.startswith("postgresql") else \
        "SQLite copied with the online-backup API"
    print(f"{args.out}: {n} files from {args.data_dir} ({how})")
    return 0
