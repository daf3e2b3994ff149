"""Engine, sessions and migrations on start.

``migrate(url)`` runs ``alembic upgrade heads`` (plural: the cases tables are their own
branch from the first revision, so more than one head is normal). The Alembic scripts live
in ``examaudit/server/migrations``; no alembic.ini is needed.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import BigInteger, Integer, String, Text, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from ..errors import InputError

MIGRATIONS = Path(__file__).with_name("migrations")
#: what a column of each integer type holds on PostgreSQL (int4, int8); SQLite holds int8 in both
INT_RANGES = {BigInteger: (-(2**63), 2**63 - 1), Integer: (-(2**31), 2**31 - 1)}


class Base(DeclarativeBase):
    """Every server table (models.py, models_cases.py) derives from this."""


class ValueDoesNotFit(InputError):
    """A value its column cannot hold: longer than its String(n), a NUL character, an integer past
    the column's range. The server answers 422 with this line (app.py)."""


def refuse_what_does_not_fit(obj: Base) -> None:
    """Raise ValueDoesNotFit for the first column value of ``obj`` that the database would refuse.

    SQLite stores a 300-character name in String(255), a NUL in a text and 2**40 in an Integer;
    PostgreSQL refuses all three with an internal error (a 500). Checked here for both, so a value
    is refused the same way whichever database the server runs on, and before anything is written.
    """
    mapper = inspect(obj).mapper
    for attr in mapper.column_attrs:
        value = getattr(obj, attr.key, None)
        if value is None:
            continue
        col = attr.columns[0]
        where = f"{mapper.local_table.name}.{col.name}"
        if isinstance(value, str) and isinstance(col.type, (String, Text)):
            if "\x00" in value:
                raise ValueDoesNotFit(f"{where}: a NUL character (\\x00) cannot be stored")
            if col.type.length is not None and len(value) > col.type.length:
                raise ValueDoesNotFit(f"{where}: {len(value)} characters, at most {col.type.length} fit")
        elif isinstance(value, int) and not isinstance(value, bool):
            for kind, (low, high) in INT_RANGES.items():
                if isinstance(col.type, kind):
                    if not low <= value <= high:
                        raise ValueDoesNotFit(f"{where}: {value} is out of range ({low} to {high})")
                    break


@event.listens_for(Session, "before_flush")
def _refuse_what_does_not_fit(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Base):
            refuse_what_does_not_fit(obj)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # Worker threads and request threads share the file: WAL lets readers run beside the
        # one writer, and busy_timeout makes a writer wait instead of failing.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (all heads by default). Safe to run on every start."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_heads(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


class Database:
    """The app's engine and session factory (one per app)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def make_room(self) -> None:
        """After a write failed on a full disk: fold SQLite's write-ahead log into the database.

        The log file is not shrunk, so the next writer starts again at its beginning and writes
        into space the file already holds: a job can still record that it failed. (PostgreSQL
        keeps its own disk; nothing to do.)
        """
        if self.url.startswith("sqlite"):
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed when the block ends, rolled back on an exception."""
        s = self.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()
