"""Server fixtures: an app on a temp data directory, and users logged in by role and city.

    def test_x(server):                       # server.client is a TestClient (lifespan running)
        h = server.login("ana", "auditor", city="温州市")   # bearer headers
        server.client.get("/api/v1/exam-points", headers=h)
        csrf = server.cookie_login("bo", "viewer")          # browser session cookie on the client

``server`` has no job workers (jobs stay queued, tests run them with ``server.run_jobs()``);
``server_factory(workers=1)`` builds one whose workers run jobs in the background.

With ``EXAMAUDIT_TEST_DB_URL`` set (a PostgreSQL URL whose user may create databases; see
scripts/pg-test.sh, ``make test-postgres``), each test gets a database of its own, created for it
and dropped after, and every server it starts (in process or ``examaudit serve``) uses it.
Without it, each server keeps SQLite in its data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
ON_POSTGRES = bool(os.environ.get("EXAMAUDIT_TEST_DB_URL"))


@pytest.fixture
def test_db():
    """A fresh PostgreSQL database for this test as ``EXAMAUDIT_DB_URL`` (None on SQLite).

    Set in the environment, so `examaudit serve` and `examaudit users add` subprocesses use it too.
    """
    admin_url = os.environ.get("EXAMAUDIT_TEST_DB_URL")
    if not admin_url:
        yield None
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    env = pytest.MonkeyPatch()  # its own: a test's monkeypatch.undo() must not take the database away
    env.setenv("EXAMAUDIT_DB_URL", url)
    yield url
    env.undo()
    with admin.connect() as conn:  # servers are stopped by now; WITH (FORCE) ends stray connections
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class ServerUnderTest:
    app: object
    client: TestClient
    data_dir: Path
    tokens: dict = field(default_factory=dict)

    @property
    def db(self):
        return self.app.state.db

    def add_user(self, name: str, role: str, city: str | None = None, password: str = PASSWORD):
        from examaudit.server.services.users import add_user

        with self.db.session() as s:
            return add_user(s, name, role, password, city)

    def login(self, name: str, role: str = "admin", city: str | None = None) -> dict:
        """Create the user (once) and return bearer-token headers for it."""
        if name not in self.tokens:
            self.add_user(name, role, city)
            r = self.client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return self.tokens[name]

    def cookie_login(self, name: str, role: str = "admin", city: str | None = None) -> str:
        """Create the user and put a session cookie on the client; returns the CSRF token."""
        from examaudit.server.models import User
        from examaudit.server.security import SESSION_COOKIE, new_session

        self.add_user(name, role, city)
        with self.db.session() as s:
            from sqlalchemy import select

            user = s.scalar(select(User).where(User.name == name))
        value, csrf = new_session(self.db, self.app.state.settings, user)
        self.client.cookies.set(SESSION_COOKIE, value)
        return csrf

    def import_zip(self, headers: dict, data: bytes) -> dict:
        """Import an exam point zip through the API, as an auditor would: 202 asserted; its answer
        ``{exam_point, code, job, ...}``."""
        r = self.client.post("/api/v1/exam-points/import", headers=headers,
                             files={"file": ("ep.zip", data, "application/zip")})
        assert r.status_code == 202, r.text
        return r.json()

    def run_jobs(self) -> None:
        """Run every queued job now, in this thread (the queue's messages are consumed)."""
        from examaudit.server.services.jobs import run_job, unfinished_job_ids

        q = self.app.state.queue
        while q.huey.dequeue() is not None:
            pass
        for job_id in unfinished_job_ids(self.db):
            run_job(self.app.state, job_id)


@pytest.fixture
def server_factory(tmp_path, test_db):
    made = []

    def make(workers: int = 0, data_dir: Path | None = None, fast: bool = True, **kw) -> ServerUnderTest:
        """``fast``: audits without the person detector and reports without the PDF (seconds, not tens)."""
        from examaudit.server.app import create_app
        from examaudit.server.settings import Settings

        if fast:
            kw = {"audit_params": {"people": False}, "report_pdf": False, **kw}
        settings = Settings.from_env(data_dir or tmp_path / "data", workers=workers, **kw)
        app = create_app(settings)
        client = TestClient(app)
        client.__enter__()  # runs the lifespan (queue, workers)
        made.append(client)
        return ServerUnderTest(app, client, settings.data_dir)

    yield make
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def server(server_factory) -> ServerUnderTest:
    return server_factory()


# ---------------------------------------------------------------- a real `examaudit serve` process
class LiveServer:
    """``examaudit serve --port 0`` in a subprocess on ``data_dir`` (127.0.0.1 only).

    ``fast`` (default) sets EXAMAUDIT_AUDIT_PARAMS/EXAMAUDIT_REPORT_PDF so audits skip the person
    detector and the PDF; ``fast=False`` runs exactly what a user runs.
    """

    def __init__(self, data_dir: Path, workers: int = 1, fast: bool = True):
        self.data_dir, self.workers, self.fast = Path(data_dir), workers, fast
        self.proc = None
        self.url = None

    def start(self) -> "LiveServer":
        import os
        import subprocess
        import sys
        import time

        import httpx

        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if self.fast:
            env.update(EXAMAUDIT_AUDIT_PARAMS='{"people": false}', EXAMAUDIT_REPORT_PDF="0")
        self.log = open(self.data_dir.parent / f"serve-{time.time_ns()}.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "examaudit.cli", "serve", "--data", str(self.data_dir), "--port", "0",
             "--workers", str(self.workers)], stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.log.seek(0)
            raise RuntimeError(f"serve did not start: {line!r} {self.log.read()[-2000:]}")
        self.url = line.split()[2].rstrip("/")
        for _ in range(200):
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code in (200, 503):
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("serve did not answer /healthz")

    def kill9(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait(5)

    def token(self, name: str) -> dict:
        import httpx

        r = httpx.post(self.url + "/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def add_user_cli(data_dir: Path, name: str, role: str, city: str | None = None) -> None:
    """`examaudit users add` as a user runs it (before or while the server runs)."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "examaudit.cli", "users", "add", name, "--role", role, "--password-stdin",
           "--data", str(data_dir)] + (["--city", city] if city else [])
    subprocess.run(cmd, input=PASSWORD + "\n", text=True, check=True, capture_output=True)


@pytest.fixture
def live_server(tmp_path, test_db):
    made: list[LiveServer] = []

    def make(data_dir: Path | None = None, **kw) -> LiveServer:
        srv = LiveServer(data_dir or tmp_path / "data", **kw).start()
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()
