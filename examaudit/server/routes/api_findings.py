"""Findings by their stable id: review decisions (with history) and evidence files."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from ..openapi import file_download
from ..security import Principal, current_user, require_role
from ..services import reviews as svc
from ..services.exam_points import audit_dir
from ..services.reports import log_download

router = APIRouter(prefix="/api/v1/findings", tags=["findings"])


class ReviewIn(BaseModel):
    decision: str = Field(description="confirmed | dismissed | unsure")
    comment: str = Field("", max_length=4000)


@router.post("/{finding_id}/review")
def review(finding_id: str, body: ReviewIn, request: Request,
           user: Principal = Depends(require_role("reviewer"))) -> dict:
    """Record a decision; the report and pack are rebuilt with it at the next download."""
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep, f = svc.locate_finding(s, settings, user, finding_id)
        r = svc.record_decision(s, ep, finding_id, body.decision, body.comment, user)
        out = svc.finding_view(f, r, user)
        out["history"] = svc.history(s, ep, finding_id)
    request.app.state.log.info("review", extra={"finding": finding_id, "decision": body.decision, "user": user.name})
    return out


@router.get("/{finding_id}")
def get_finding(finding_id: str, request: Request, user: Principal = Depends(current_user)) -> dict:
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        from sqlalchemy import select

        from ..models import Review

        ep, f = svc.locate_finding(s, settings, user, finding_id)
        r = s.scalar(select(Review).where(Review.exam_point_id == ep.id, Review.finding_id == finding_id))
        out = svc.finding_view(f, r, user)
        out["history"] = svc.history(s, ep, finding_id)
        out["exam_point_code"] = ep.code
        return out


@router.get("/{finding_id}/evidence/{n}", **file_download("image/*", "video/*", "application/octet-stream", "text/plain"))
def evidence(finding_id: str, n: int, request: Request, user: Principal = Depends(current_user)):
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep, f = svc.locate_finding(s, settings, user, finding_id)
    path = svc.evidence_file(settings, ep, f, n)
    out = audit_dir(settings, ep.code)
    log_download(out, path.relative_to(out.resolve()).as_posix(), user)
    return FileResponse(path)
