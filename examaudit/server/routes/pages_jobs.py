"""The job queue page: every job of the exam points the user may see; auditors and admins cancel."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from ..models import Job
from ..openapi import RowId
from ..security import Principal, current_user, require_role
from ..services.exam_points import visible_exam_points
from ..services.jobs import cancel_job, check_job, job_view
from .pages_common import render

router = APIRouter(tags=["pages"], include_in_schema=False)
MAX_JOBS = 500


@router.get("/admin/jobs")
def jobs_page(request: Request, user: Principal = Depends(current_user)):
    with request.app.state.db.session() as s:
        eps = {ep.id: ep for ep in visible_exam_points(s, user)}
        rows = []
        mine = Job.exam_point_id.in_(list(eps)) | (Job.kind == "screening")
        for j in s.scalars(select(Job).where(mine).order_by(Job.id.desc()).limit(MAX_JOBS)):
            if j.exam_point_id is not None:
                rows.append({**job_view(j), "code": eps[j.exam_point_id].code})
            elif user.can_see_city(j.city):  # a screening in the user's scope
                rows.append({**job_view(j), "code": None})
    return render(request, "pages/admin_jobs.html.j2", {"rows": rows}, user, nav="jobs")


@router.post("/admin/jobs/{job_id}/cancel")
def jobs_cancel(request: Request, job_id: RowId, user: Principal = Depends(require_role("auditor"))):
    with request.app.state.db.session() as s:
        job = s.get(Job, job_id)
        if job is not None:
            cancel_job(s, check_job(s, user, job))
    return RedirectResponse("/admin/jobs", status_code=303)
