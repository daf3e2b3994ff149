"""Jobs: state and progress, cancel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..models import Job
from ..openapi import RowId
from ..security import Principal, current_user, require_role
from ..services.jobs import cancel_job, check_job, job_view

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


def _job(s, user: Principal, job_id: RowId) -> Job:
    return check_job(s, user, s.get(Job, job_id))  # another city's job is a 404 too


@router.get("/{job_id}")
def get_job(job_id: RowId, request: Request, user: Principal = Depends(current_user)) -> dict:
    with request.app.state.db.session() as s:
        return job_view(_job(s, user, job_id))


@router.post("/{job_id}/cancel")
def cancel(job_id: RowId, request: Request, user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        job = cancel_job(s, _job(s, user, job_id))
        request.app.state.log.info("job cancel requested", extra={"job": job_id, "user": user.name})
        return job_view(job)
