"""Server fixtures: an app on a temp data directory, and users logged in by role and city.

    def test_x(server):                       # server.client is a TestClient (lifespan running)
        h = server.login("ana", "auditor", city="温州市")   # bearer headers
        server.client.get("/api/v1/exam-points", headers=h)
        csrf = server.cookie_login("bo", "viewer")          # browser session cookie on the client

``server`` has no job workers (jobs stay queued, tests run them with ``server.run_jobs()``);
``server_factory(workers=1)`` builds one whose workers run jobs in the background.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


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
        from examaudit.server.security import SESSION_COOKIE, make_session_cookie

        self.add_user(name, role, city)
        with self.db.session() as s:
            from sqlalchemy import select

            user = s.scalar(select(User).where(User.name == name))
            value, csrf = make_session_cookie(self.app.state.settings.secret_key, user)
        self.client.cookies.set(SESSION_COOKIE, value)
        return csrf

    def run_jobs(self) -> None:
        """Run every queued job now, in this thread (the queue's messages are consumed)."""
        from examaudit.server.services.jobs import run_job, unfinished_job_ids

        q = self.app.state.queue
        while q.huey.dequeue() is not None:
            pass
        for job_id in unfinished_job_ids(self.db):
            run_job(self.app.state, job_id)


@pytest.fixture
def server_factory(tmp_path):
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
