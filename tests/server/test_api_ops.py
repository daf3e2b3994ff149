"""Operations: /healthz, `examaudit backup`, `examaudit users`, `serve --help`."""

from __future__ import annotations

import sqlite3
import tarfile

from examaudit.cli import main

from .conftest import PASSWORD


def test_healthz_is_public_and_reports(server):
    r = server.client.get("/healthz")
    body = r.json()
    assert r.status_code == 200 and body["database"] == "ok" and body["queue_depth"] == 0
    assert body["disk_free_bytes"] > 0


def test_backup_is_consistent_while_the_server_runs(server, tmp_path, test_db):
    server.login("ana", "auditor")
    out = tmp_path / "b.tar"
    assert main(["backup", str(server.data_dir), str(out)]) == 0  # test_db: in $EXAMAUDIT_DB_URL, as for serve
    with tarfile.open(out) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "restored", filter="data")
    assert "secret.key" in names and not any(n.endswith("-wal") for n in names)
    if test_db:  # PostgreSQL: pg_dump's archive, read back by pg_restore
        import subprocess

        assert "examaudit.pgdump" in names and "examaudit.db" not in names
        sql = subprocess.run(["pg_restore", "--data-only", "--table=users", "-f", "-",
                              str(tmp_path / "restored" / "examaudit.pgdump")], capture_output=True, text=True,
                             check=True).stdout
        assert "\tana\t" in sql
        return
    assert "examaudit.db" in names
    con = sqlite3.connect(tmp_path / "restored" / "examaudit.db")
    assert con.execute("select name from users").fetchall() == [("ana",)]
    con.close()


def test_users_commands(tmp_path, capsys, monkeypatch):
    import io

    data = str(tmp_path / "d")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "ana", "--role", "reviewer", "--city", "杭州市", "--password-stdin", "--data", data]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "ana", "--role", "viewer", "--password-stdin", "--data", data]) == 2  # exists
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "bo", "--role", "viewer", "--password-stdin", "--data", data]) == 2
    assert main(["users", "disable", "ana", "--data", data]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--data", data]) == 0
    assert capsys.readouterr().out.split() == ["ana", "reviewer", "杭州市", "disabled"]
    monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
    assert main(["users", "reset-password", "ana", "--password-stdin", "--data", data]) == 0
    assert main(["users", "disable", "nobody", "--data", data]) == 2


def test_serve_help_documents_the_data_directory(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "originals/<sha256>" in out and "examaudit.db" in out and "--db" in out


def test_the_server_uses_the_test_database(server, test_db):
    # `make test-postgres` passes only if the servers under test really run on PostgreSQL
    if test_db:
        assert server.db.url == test_db and server.db.engine.dialect.name == "postgresql"
        assert not (server.data_dir / "examaudit.db").exists()
    else:
        assert server.db.engine.dialect.name == "sqlite" and (server.data_dir / "examaudit.db").is_file()
