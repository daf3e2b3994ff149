"""Jobs: create, run (in a huey worker thread), report progress, cancel.

Two kinds share the queue, the progress writer and cancel: "audit" (below) and "screening"
(services/screenings.py: the province screen over the exam points a user sees).

A job audits one exam point's current input folder into the exam point's audit folder with
the library's ``run_audit`` (the same call as ``examaudit audit``), then renders the report and
the evidence pack with the review decisions applied. Progress: 0..0.85 recording by recording
and sample by sample, then records, report and pack.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..jobs import exam_point_lock
from ..models import ExamPoint, Job, utcnow
from ..security import Principal

log = logging.getLogger("examaudit.server.jobs")
ANALYSIS_SHARE = 0.85
#: progress is written to the database at most this often (seconds)
PROGRESS_EVERY_S = 0.5


class JobCancelled(BaseException):
    """Raised from the progress callback when someone cancelled the job.

    A BaseException, like KeyboardInterrupt: ``analyse_job`` turns every Exception into an
    outcome so a batch keeps going, and a cancel must stop the batch instead.
    """


def create_job(s: Session, ep: ExamPoint, user: Principal) -> Job:
    job = Job(exam_point_id=ep.id, kind="audit", config_path=ep.config_path, state="queued", progress=0.0,
              message="排队中 / queued", created_by=user.name, created_at=utcnow())
    s.add(job)
    s.flush()
    return job


def withdraw_job(db, job_id: int) -> None:
    """Delete a job that never reached the queue (still queued, never started)."""
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is not None and job.state == "queued" and job.started_at is None:
            s.delete(job)


def check_job(s: Session, user: Principal, job: Job | None) -> Job:
    """The job if ``user`` may see it: its exam point's city, or a screening's scope; else 404."""
    from fastapi import HTTPException

    from ..security import check_city

    if job is None:
        raise HTTPException(404, "job not found")
    if job.exam_point_id is None:
        if not user.can_see_city(job.city):
            raise HTTPException(404, "job not found")
    else:
        check_city(user, s.get(ExamPoint, job.exam_point_id))
    return job


def job_view(job: Job) -> dict:
    return {
        "id": job.id, "kind": job.kind, "exam_point": job.exam_point_id, "state": job.state, "progress": round(job.progress, 4),
        "message": job.message, "created_by": job.created_by,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def unfinished_job_ids(db) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(Job.id).where(Job.state.in_(("queued", "running"))).order_by(Job.id)))


def cancel_job(s: Session, job: Job) -> Job:
    """A queued job is cancelled at once; a running one stops at its next progress report.

    Each step is one conditional UPDATE (compare and set), so a worker starting this job at the same
    moment either sees the cancel or is asked to stop; never both win. (A row lock would do it on
    PostgreSQL only: SQLite takes its writer lock at the first write, after the job was read.)
    """
    now = utcnow()
    done = s.execute(update(Job).where(Job.id == job.id, Job.state == "queued")
                     .values(state="cancelled", finished_at=now, message="已取消 / cancelled")).rowcount
    if not done:
        s.execute(update(Job).where(Job.id == job.id, Job.state == "running")
                  .values(cancel_requested=True, message="正在取消 / cancelling"))
    s.refresh(job)
    return job


class _Progress:
    """Writes progress to the job row (throttled) and raises JobCancelled when asked to stop."""

    def __init__(self, db, job_id: int):
        self.db, self.job_id = db, job_id
        self._last = 0.0
        self._value = 0.0

    def __call__(self, value: float, message: str | None = None, force: bool = False) -> None:
        self._value = max(self._value, min(1.0, value))  # never moves backwards
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        with self.db.session() as s:
            job = s.get(Job, self.job_id)
            if job.cancel_requested:
                raise JobCancelled()
            job.progress = self._value
            if message:
                job.message = message


def run_job(state, job_id: int) -> None:
    """Run one job to its end (called by a worker; safe to call again after a crash)."""
    db, settings = state.db, state.settings
    with db.session() as s:
        job = s.get(Job, job_id)
        if job is None or job.state not in ("queued", "running"):
            return
        ep_id, kind = job.exam_point_id, job.kind
    if kind == "screening":
        _run_screening(state, job_id)
        return
    with exam_point_lock(ep_id):
        resumed = _start(db, job_id)
        if resumed is None:
            return
        with db.session() as s:
            job, ep = s.get(Job, job_id), s.get(ExamPoint, ep_id)
            code, config_path = ep.code, settings.data_dir / job.config_path
        log.info("job started", extra={"job": job_id, "exam_point": code, "resumed": resumed})
        summary = _run_guarded(db, job_id, lambda progress: _audit(state, code, config_path, progress),
                               settings.data_dir)
        if summary is _STOPPED:
            return
        with db.session() as s:
            ep = s.get(ExamPoint, ep_id)
            ep.risk, ep.findings_count = summary["risk"], summary["findings"]
        _finish(db, job_id, "done", summary["message"], progress=1.0)
        log.info("job done", extra={"job": job_id, "summary": summary["message"], "risk": summary["risk"]})


def _start(db, job_id: int) -> bool | None:
    """Mark the job running (again, after a restart): whether it resumes, or None when it should not run.

    Conditional UPDATEs, as in :func:`cancel_job`: the state this worker saw is the state it changes.
    """
    now = utcnow()
    with db.session() as s:
        for was, resumed, message in (("running", True, "继续运行（重启后）/ resumed after a restart"),
                                      ("queued", False, "运行中 / running")):
            took = s.execute(update(Job).where(Job.id == job_id, Job.state == was, Job.cancel_requested.is_(False))
                             .values(state="running", attempts=Job.attempts + 1,
                                     started_at=func.coalesce(Job.started_at, now), message=message)).rowcount
            if took:
                return resumed
        # cancelled while it waited (or finished already): close a cancel that was only requested
        s.execute(update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")),
                                    Job.cancel_requested.is_(True))
                  .values(state="cancelled", finished_at=now, message="已取消 / cancelled"))
        return None


#: What :func:`_run_guarded` returns when the job was cancelled or failed (and is already finished).
_STOPPED = object()


def _run_guarded(db, job_id: int, work, data_dir: Path | None = None):
    """``work(progress)``'s result; a cancel or an error finishes the job instead (cancelled, or failed
    with a readable message: a full disk says how much is free in ``data_dir``) and gives
    :data:`_STOPPED`. The server goes on either way."""
    try:
        return work(_Progress(db, job_id))
    except JobCancelled:
        _finish(db, job_id, "cancelled", "已取消 / cancelled")
        log.info("job cancelled", extra={"job": job_id})
    except Exception as exc:  # noqa: BLE001 - the job fails with a readable message; the server goes on
        from ...errors import InputError, disk_full, displayable, is_disk_full

        if is_disk_full(exc) and not isinstance(exc, InputError):
            written = getattr(exc, "filename", None)
            exc = disk_full(data_dir or ".", written and displayable(written))
        msg = str(exc) if isinstance(exc, InputError) else f"internal error: {type(exc).__name__}: {exc}"
        log.exception("job failed", extra={"job": job_id})
        _finish(db, job_id, "failed", msg)
    return _STOPPED


def _run_screening(state, job_id: int) -> None:
    """A screening job: ``screen_province`` over the job's province view (services/screenings.py)."""
    from .screenings import run_screening

    db = state.db
    if _start(db, job_id) is None:
        return
    log.info("screening started", extra={"job": job_id})
    message = _run_guarded(db, job_id, lambda progress: run_screening(state, job_id, progress),
                           state.settings.data_dir)
    if message is _STOPPED:
        return
    _finish(db, job_id, "done", message, progress=1.0)
    log.info("job done", extra={"job": job_id, "summary": message})


def _finish(db, job_id: int, state: str, message: str, progress: float | None = None) -> None:
    from ...errors import is_disk_full

    for attempt in (1, 2):
        try:
            with db.session() as s:
                job = s.get(Job, job_id)
                job.state, job.message, job.finished_at = state, message[:2000], utcnow()
                if progress is not None:
                    job.progress = progress
            return
        except Exception as exc:
            # The job that filled the disk must still be able to say so (else it stays "running").
            if attempt == 2 or not is_disk_full(exc):
                raise
            db.make_room()


def received_originals(db, code: str, folder: Path) -> dict[Path, str]:
    """Each file of the exam point's folder that is a stored original -> the sha256 it was received with."""
    from ..models import Upload

    with db.session() as s:
        ep = s.scalar(select(ExamPoint).where(ExamPoint.code == code))
        rows = s.scalars(select(Upload).where(Upload.exam_point_id == ep.id, Upload.role != "config")
                         .order_by(Upload.id)) if ep else []  # a later upload of the same name wins
        return {folder / r.rel_path: r.sha256 for r in rows
                if not r.rel_path.startswith("..") and (folder / r.rel_path).exists()}


def _audit(state, code: str, config_path: Path, progress: _Progress) -> dict:
    from ...audit import STATUSES, run_audit
    from ...video.analyze import AnalyzeParams
    from .exam_points import audit_dir
    from .reports import regenerate

    out = audit_dir(state.settings, code)
    progress(0.0, "分析录像 / analysing recordings", force=True)
    result = run_audit(config_path.parent, out, workers=state.settings.job_audit_workers,
                       originals=received_originals(state.db, code, config_path.parent),
                       params=AnalyzeParams(**state.settings.audit_params),
                       command=f"examaudit serve (exam point {code})",
                       progress=lambda f: progress(ANALYSIS_SHARE * f, "分析录像 / analysing recordings"))
    progress(ANALYSIS_SHARE, "生成报告与证据包 / report and evidence pack", force=True)
    risk = regenerate(state, code)
    counts = {st: sum(o.status == st for o in result.outcomes) for st in STATUSES}
    message = (f"{len(result.findings)} finding(s); recordings analysed {counts['analysed']}, reused "
               f"{counts['reused']}, unreadable {counts['failed']}")
    if counts["error"]:
        message += f"; {counts['error']} recording(s) hit an internal error (rerun to retry)"
    if result.integrity_failures:
        message = (f"审计已停止：{len(result.integrity_failures)} 个原始文件与接收时的 sha256 不符 / audit stopped: "
                   + ", ".join(c["file"] for c in result.integrity_failures) + " changed since received")
    return {"findings": len(result.findings), "risk": risk, "message": message, **counts}
