"""Alembic on start: an old database (only the first revision, with a user in it) is upgraded."""

from __future__ import annotations

import sqlite3

from examaudit.server.db import current_heads, migrate


def test_old_database_is_upgraded_on_start(tmp_path, server_factory):
    url = f"sqlite:///{tmp_path / 'data' / 'examaudit.db'}"
    (tmp_path / "data").mkdir()
    migrate(url, "0001_users")
    assert current_heads(url) == {"0001_users"}
    con = sqlite3.connect(tmp_path / "data" / "examaudit.db")
    con.execute("INSERT INTO users (name, password_hash, role, city, disabled, session_version, created_at) "
                "VALUES ('old', 'x', 'admin', NULL, 0, 0, '2024-01-01T00:00:00+00:00')")
    con.commit()
    con.close()
    srv = server_factory(data_dir=tmp_path / "data")  # create_app migrates
    heads = current_heads(url)
    assert "0001_users" not in heads and heads
    from examaudit.server.models import ExamPoint, User

    with srv.db.session() as s:
        assert [u.name for u in s.query(User)] == ["old"]
        assert s.query(ExamPoint).count() == 0  # a table the old database did not have
