"""Server settings: one data directory, one env prefix (``EXAMAUDIT_``).

Everything the server stores lives under ``data_dir`` (the database when it is SQLite, the
job queue, originals, exam points, audits), so a backup is that one folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, Field

DEFAULT_DATA = "examaudit-data"
GiB = 1024**3


def default_data_dir() -> Path:
    return Path(os.environ.get("EXAMAUDIT_DATA") or DEFAULT_DATA)


class Settings(BaseModel):
    """What one server instance needs. Build with :meth:`from_env` (CLI flags win over env).

    Attributes:
        data_dir: the data directory (``--data``; env ``EXAMAUDIT_DATA``).
        db_url: SQLAlchemy URL; None means SQLite at ``data_dir/examaudit.db``
            (``--db``; env ``EXAMAUDIT_DB_URL``, e.g. ``postgresql+psycopg://u:p@host/db``).
        workers: job worker threads started with the app (0: jobs stay queued; tests use it).
        secret_key: signs session cookies and API tokens; kept in ``data_dir/secret.key`` unless
            ``EXAMAUDIT_SECRET_KEY`` is set.
    """

    data_dir: Path
    db_url: str | None = None
    workers: int = 1
    secret_key: str = ""
    cookie_secure: bool = False  # set EXAMAUDIT_COOKIE_SECURE=1 behind HTTPS
    session_max_age_s: int = 12 * 3600
    token_max_age_s: int = 12 * 3600
    login_max_failures: int = 5  # per user name and per client address ...
    login_window_s: int = 300  # ... within this many seconds, then 429 until it passes
    max_upload_bytes: int = 64 * GiB  # one tus upload
    max_uploads_per_exam_point: int = 500
    max_import_bytes: int = 20 * GiB  # unpacked size of an imported zip
    max_import_files: int = 5000
    max_compression_ratio: float = 200.0  # zip bombs: unpacked/packed per member and overall
    #: free space kept in DATA: an upload or import that would leave less is refused before its
    #: first byte (507), and /healthz answers 503 below it (env ``EXAMAUDIT_DISK_RESERVE_BYTES``)
    disk_reserve_bytes: int = GiB
    job_audit_workers: int = 1  # processes per audit (run_audit's own pool)
    #: AnalyzeParams overrides for every audit (empty: the same defaults as `examaudit audit`)
    audit_params: dict = Field(default_factory=dict)
    report_pdf: bool = True  # also print report.pdf (WeasyPrint, seconds per report)
    extra: dict = Field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'examaudit.db').resolve()}"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def exam_points_dir(self) -> Path:
        return self.data_dir / "exam_points"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, db_url: str | None = None, **kw) -> "Settings":
        data = Path(data_dir) if data_dir else default_data_dir()
        data.mkdir(parents=True, exist_ok=True)
        env = os.environ
        if "EXAMAUDIT_AUDIT_PARAMS" in env and "audit_params" not in kw:
            import json

            kw["audit_params"] = json.loads(env["EXAMAUDIT_AUDIT_PARAMS"])  # e.g. {"every_s": 2, "people": false}
        if "EXAMAUDIT_DISK_RESERVE_BYTES" in env and "disk_reserve_bytes" not in kw:
            kw["disk_reserve_bytes"] = int(env["EXAMAUDIT_DISK_RESERVE_BYTES"])
        if "EXAMAUDIT_JOB_AUDIT_WORKERS" in env and "job_audit_workers" not in kw:
            kw["job_audit_workers"] = int(env["EXAMAUDIT_JOB_AUDIT_WORKERS"])  # 2+: recordings analysed in processes
        if "EXAMAUDIT_REPORT_PDF" in env and "report_pdf" not in kw:
            kw["report_pdf"] = env["EXAMAUDIT_REPORT_PDF"] not in ("", "0", "no")
        s = cls(
            data_dir=data.resolve(),
            db_url=db_url or env.get("EXAMAUDIT_DB_URL") or None,
            secret_key=env.get("EXAMAUDIT_SECRET_KEY") or _secret_key(data),
            cookie_secure=env.get("EXAMAUDIT_COOKIE_SECURE", "") not in ("", "0", "no"),
            **kw,
        )
        for d in (s.originals_dir, s.exam_points_dir, s.uploads_dir):
            d.mkdir(parents=True, exist_ok=True)
        return s


def _secret_key(data: Path) -> str:
    """A random key made once per data directory (so sessions survive a restart)."""
    path = data / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
