"""Alembic on start: an old database (only the first revision, with a user in it) is upgraded."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, text

from examaudit.server.db import current_heads, migrate


def test_old_database_is_upgraded_on_start(tmp_path, server_factory, test_db):
    url = test_db or f"sqlite:///{tmp_path / 'data' / 'examaudit.db'}"  # test_db: PostgreSQL, when testing it
    (tmp_path / "data").mkdir()
    migrate(url, "0001_users")
    assert current_heads(url) == {"0001_users"}
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (name, password_hash, role, city, disabled, session_version, created_at) "
                          "VALUES ('old', 'x', 'admin', NULL, :no, 0, :at)"),
                     {"no": False, "at": datetime(2024, 1, 1, tzinfo=timezone.utc)})
    engine.dispose()
    srv = server_factory(data_dir=tmp_path / "data")  # create_app migrates
    heads = current_heads(url)
    assert "0001_users" not in heads and heads
    from examaudit.server.models import ExamPoint, User

    with srv.db.session() as s:
        assert [u.name for u in s.query(User)] == ["old"]
        assert s.query(ExamPoint).count() == 0  # a table the old database did not have


def test_migrations_build_exactly_the_tables_the_models_declare(tmp_path, test_db):
    """Alembic's own comparison of the migrated schema with the models: a column or table added to
    models.py without a migration (or the reverse) shows up here, not on a user's old database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    import examaudit.server.models  # noqa: F401 - registers the tables on Base
    import examaudit.server.models_cases  # noqa: F401
    from examaudit.server.db import Base

    url = test_db or f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    engine.dispose()
    # SQLite reflects no server defaults the models do not name, and index names may differ in case;
    # tables and columns must match exactly
    structural = [d for d in diff if isinstance(d, tuple) and d[0] in ("add_table", "remove_table", "add_column",
                                                                           "remove_column")]
    assert structural == [], structural
