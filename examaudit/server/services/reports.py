"""Report, evidence pack and risk of an exam point, with the review decisions applied.

The decisions go to the audit folder as ``reviews.json`` (plain data the library's report
reads); the report and pack are rebuilt when the findings or the decisions changed since the
last build (a stamp file holds the hash of both), so a download always shows the current review.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select

from ...custody import CustodyLog
from ...findings import read_findings
from ...outputs import sha256_file
from ...report.reviews import REVIEWS_NAME, ReviewDecision, counted_findings, write_reviews
from ..jobs import exam_point_lock
from ..models import ExamPoint, Review
from ..security import Principal
from .storage import custody_lock

STAMP = ".reports.stamp"
DOWNLOADS = {"report.pdf": "application/pdf", "report.html": "text/html; charset=utf-8",
             "evidence_pack.zip": "application/zip"}


def decisions(db, code: str) -> dict[str, ReviewDecision]:
    with db.session() as s:
        ep = s.scalar(select(ExamPoint).where(ExamPoint.code == code))
        rows = s.scalars(select(Review).where(Review.exam_point_id == ep.id)) if ep else []
        return {r.finding_id: ReviewDecision(r.finding_id, r.decision, r.comment, r.by, r.at.isoformat())
                for r in rows}


def risk_of(out: Path, reviews: dict[str, ReviewDecision]) -> float | None:
    from ...report.model import risk_view

    if not (out / "findings.json").is_file():
        return None
    findings = read_findings(out / "findings.json").findings
    return risk_view(counted_findings(findings, reviews), "zh", False).score


def _stamp(out: Path, reviews: dict[str, ReviewDecision]) -> str:
    payload = json.dumps([sha256_file(out / "findings.json"),
                          sorted((r.finding_id, r.decision, r.comment, r.by, r.at) for r in reviews.values())])
    return hashlib.sha256(payload.encode()).hexdigest()


def regenerate(state, code: str, force: bool = True) -> float | None:
    """Write reviews.json, the report (HTML + PDF) and the pack; returns the risk score.

    Callers hold the exam point's lock (a job does; :func:`ensure_current` takes it).
    """
    from ...report.pack import build_evidence_pack
    from ...report.render import render_report
    from .exam_points import audit_dir

    out = audit_dir(state.settings, code)
    reviews = decisions(state.db, code)
    stamp = _stamp(out, reviews)
    wanted = [n for n in DOWNLOADS if state.settings.report_pdf or n != "report.pdf"]
    if not force and (out / STAMP).is_file() and (out / STAMP).read_text() == stamp and all(
            (out / n).is_file() for n in wanted):
        return risk_of(out, reviews)
    if not force:  # a job's rebuild follows its own audit, which has just checked the originals
        _stop_if_originals_changed(state, code, out)
        reviews = decisions(state.db, code)
        stamp = _stamp(out, reviews)
    with custody_lock(out / "custody.jsonl"):
        if reviews or (out / REVIEWS_NAME).exists():
            path = write_reviews(out, list(reviews.values()))
            dismissed = sum(r.decision == "dismissed" for r in reviews.values())
            CustodyLog(out / "custody.jsonl").append(
                "review decisions applied", outputs={REVIEWS_NAME: sha256_file(path)},
                note=f"{len(reviews)} decision(s), {dismissed} dismissed (not counted in the risk)")
    # The report writes no custody entry: printing it (seconds) outside the lock lets every evidence
    # view and download meanwhile log its own entry instead of waiting (the exam point's lock is held).
    render_report(out, lang="zh", show_personal_data=False, reviews=reviews, pdf=state.settings.report_pdf)
    with custody_lock(out / "custody.jsonl"):
        build_evidence_pack(out)
    (out / STAMP).write_text(stamp)
    return risk_of(out, reviews)


def _stop_if_originals_changed(state, code: str, out: Path) -> None:
    """Before a report or pack is built again: an original changed since the audit stops the exam
    point as an audit would (``run_audit`` hashes the originals first and stops on a change), so
    no evidence is cut from changed footage and the findings say why."""
    from ...audit import check_originals, run_audit
    from ...video.analyze import AnalyzeParams
    from .jobs import received_originals

    with state.db.session() as s:
        ep = s.scalar(select(ExamPoint).where(ExamPoint.code == code))
        folder = (state.settings.data_dir / ep.config_path).parent if ep and ep.config_path else None
    if folder is None or not folder.is_dir():
        return
    originals = received_originals(state.db, code, folder)
    if check_originals(originals, folder):
        run_audit(folder, out, originals=originals, params=AnalyzeParams(**state.settings.audit_params),
                  command=f"examaudit serve (exam point {code}: originals checked before the report and pack)")


def ensure_current(state, ep: ExamPoint) -> Path:
    """The audit folder, with report and pack rebuilt first if the reviews changed since."""
    from .exam_points import audit_dir

    out = audit_dir(state.settings, ep.code)
    if not (out / "findings.json").is_file():
        return out
    lock = exam_point_lock(ep.id)
    if not lock.acquire(blocking=False):
        return out  # an audit of it is running: serve the last build; the job rebuilds at its end
    try:
        risk = regenerate(state, ep.code, force=False)
    finally:
        lock.release()
    with state.db.session() as s:
        s.get(ExamPoint, ep.id).risk = risk
    return out


def log_download(out: Path, name: str, user: Principal) -> None:
    """One custody entry per download, naming the logged-in user."""
    path = out / name
    with custody_lock(out / "custody.jsonl"):
        CustodyLog(out / "custody.jsonl").append(
            "downloaded", outputs={name: sha256_file(path)} if path.is_file() else {},
            actor=f"{user.name} (examaudit serve, {user.role})", note=f"{name} downloaded by {user.name}")
