"""Findings as the API shows them (with their review, masked by role) and review decisions."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...findings import Finding, read_findings
from ...report.mask import mask_text, mask_value
from ..models import DECISIONS, ExamPoint, Review, ReviewHistory, utcnow
from ..security import Principal
from ..settings import Settings
from .exam_points import audit_dir, visible_exam_points

_cache: dict[str, tuple[float, list[Finding]]] = {}
_cache_lock = threading.Lock()


def findings_of(settings: Settings, code: str) -> list[Finding]:
    """The exam point's merged findings.json ([] before its first audit), cached by mtime."""
    path = audit_dir(settings, code) / "findings.json"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return []
    with _cache_lock:
        hit = _cache.get(str(path))
        if hit and hit[0] == mtime:
            return hit[1]
    found = read_findings(path).findings
    with _cache_lock:
        _cache[str(path)] = (mtime, found)
    return found


def review_view(r: Review | None) -> dict:
    if r is None:
        return {"decision": None, "comment": None, "by": None, "at": None}
    return {"decision": r.decision, "comment": r.comment, "by": r.by, "at": r.at.isoformat()}


def finding_view(f: Finding, review: Review | None, user: Principal) -> dict:
    """A finding as in findings.json plus ``review``; ID-card and phone numbers masked below auditor."""
    d = f.model_dump(mode="json")
    if not user.sees_personal_data:
        d["reason_zh"], d["reason_en"] = mask_text(d["reason_zh"]), mask_text(d["reason_en"])
        d["details"] = {k: mask_value(k, v) for k, v in (d.get("details") or {}).items()}
        if d.get("candidate_id"):
            d["candidate_id"] = mask_text(d["candidate_id"])
    d["review"] = review_view(review)
    return d


def findings_with_reviews(s: Session, settings: Settings, ep: ExamPoint, user: Principal) -> list[dict]:
    reviews = {r.finding_id: r for r in s.scalars(select(Review).where(Review.exam_point_id == ep.id))}
    return [finding_view(f, reviews.get(f.id), user) for f in findings_of(settings, ep.code)]


def locate_finding(s: Session, settings: Settings, user: Principal, finding_id: str) -> tuple[ExamPoint, Finding]:
    """The visible exam point holding ``finding_id`` (ids embed the exam point, so at most one); else 404."""
    for ep in visible_exam_points(s, user):
        for f in findings_of(settings, ep.code):
            if f.id == finding_id:
                return ep, f
    raise HTTPException(404, "finding not found")


def record_decision(s: Session, ep: ExamPoint, finding_id: str, decision: str, comment: str,
                    user: Principal) -> Review:
    """Set the current decision and keep the change in the history."""
    if decision not in DECISIONS:
        raise HTTPException(422, f"decision must be one of {', '.join(DECISIONS)}")
    if decision == "dismissed" and not comment.strip():
        raise HTTPException(422, "a dismissal needs a reason (comment): the report prints it")
    now = utcnow()
    r = s.scalar(select(Review).where(Review.exam_point_id == ep.id, Review.finding_id == finding_id))
    if r is None:
        r = Review(exam_point_id=ep.id, finding_id=finding_id)
        s.add(r)
    r.decision, r.comment, r.by, r.at = decision, comment, user.name, now
    s.add(ReviewHistory(exam_point_id=ep.id, finding_id=finding_id, decision=decision, comment=comment,
                        by=user.name, at=now))
    s.flush()
    return r


def history(s: Session, ep: ExamPoint, finding_id: str) -> list[dict]:
    rows = s.scalars(select(ReviewHistory).where(ReviewHistory.exam_point_id == ep.id,
                                                 ReviewHistory.finding_id == finding_id).order_by(ReviewHistory.id))
    return [{"decision": r.decision, "comment": r.comment, "by": r.by, "at": r.at.isoformat()} for r in rows]


def evidence_file(settings: Settings, ep: ExamPoint, f: Finding, n: int) -> Path:
    """The n-th evidence file of a finding, inside the exam point's audit folder (else 404)."""
    if n < 0 or n >= len(f.evidence):
        raise HTTPException(404, "no such evidence")
    root = audit_dir(settings, ep.code).resolve()
    path = (root / f.evidence[n].path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, "evidence file not found")
    return path
