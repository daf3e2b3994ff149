"""The screening page: start the province screen from the dashboard, follow it, read the ranking."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from ...errors import InputError
from ..openapi import RowId
from ..security import Principal, current_user, require_role
from ..services import screenings as svc
from .pages_common import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post("/screenings")
def start(request: Request, user: Principal = Depends(require_role("auditor"))):
    state = request.app.state
    try:
        with state.db.session() as s:
            job_id = svc.start_screening(s, state.settings, user).id
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    state.queue.enqueue(job_id)
    state.log.info("screening queued", extra={"job": job_id, "user": user.name, "city": user.city})
    return RedirectResponse(f"/screenings/{job_id}", status_code=303)


@router.get("/screenings/{job_id}")
def page(request: Request, job_id: RowId, user: Principal = Depends(current_user)):
    with request.app.state.db.session() as s:
        view = svc.screening_view(request.app.state.settings, svc.visible_screening(s, user, job_id))
    return render(request, "pages/screening.html.j2", {"job": view, "code": None}, user, nav="dashboard")
