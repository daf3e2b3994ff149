"""Screenings: start the province screen over the exam points the user sees, follow it, download it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse

from ...errors import InputError
from ..openapi import RowId
from ..security import Principal, current_user, require_role
from ..services import screenings as svc

router = APIRouter(prefix="/api/v1/screenings", tags=["screenings"])


@router.post("", status_code=202)
def start_screening(request: Request, user: Principal = Depends(require_role("auditor"))) -> dict:
    """Every exam point of the user's city (or the province) with a finished audit -> 202 {job}."""
    state = request.app.state
    try:
        with state.db.session() as s:
            job = svc.start_screening(s, state.settings, user)
            out = svc.screening_view(state.settings, job)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    state.queue.enqueue(out["id"])
    state.log.info("screening queued", extra={"job": out["id"], "user": user.name, "city": user.city,
                                              "exam_points": len(out["exam_points"])})
    return {"job": out["id"], **out}


@router.get("/{job_id}")
def get_screening(job_id: RowId, request: Request, user: Principal = Depends(current_user)) -> dict:
    """State and progress; when done, ``ranked`` holds the rows of exam_points.csv (rank 1 first)."""
    with request.app.state.db.session() as s:
        return svc.screening_view(request.app.state.settings, svc.visible_screening(s, user, job_id))


def _download(name: str):
    def route(job_id: RowId, request: Request, user: Principal = Depends(current_user)):
        state = request.app.state
        with state.db.session() as s:
            path = svc.screening_file(state.settings, svc.visible_screening(s, user, job_id), name)
        state.log.info("download", extra={"file": name, "screening": job_id, "user": user.name})
        return FileResponse(path, media_type=svc.SCREENING_FILES[name], filename=f"screening-{job_id}-{name}",
                            content_disposition_type="inline" if name.endswith((".html", ".pdf")) else "attachment")

    route.__name__ = "download_" + name.replace(".", "_")
    return route


for _name in svc.SCREENING_FILES:
    router.add_api_route(f"/{{job_id}}/{_name}", _download(_name), methods=["GET"], name=f"screening_{_name}")
