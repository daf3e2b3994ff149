"""The upload page: a new exam point from its YAML, footage per room/camera and records by tus,
then the audit with live progress (polled, and kept across reloads by the job id in the address)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from ...errors import InputError
from ..models import ExamPoint, Job, Upload
from ..openapi import RowId
from ..security import Principal, current_user, require_role
from ..services import exam_points as eps
from ..services.jobs import check_job, job_view
from .pages_common import lang_of, render
from .pages_text import t

router = APIRouter(tags=["pages"], include_in_schema=False)
TUS_ENDPOINT = "/api/v1/uploads/"


def _exam_point_ctx(request: Request, user: Principal, code: str, job: int | None, lang: str) -> dict:
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep = eps.get_visible(s, user, code)
        uploads = [{"role": u.role, "room": u.room, "camera": u.camera, "path": u.rel_path, "sha256": u.sha256,
                    "size": u.size, "by": u.uploaded_by}
                   for u in s.scalars(select(Upload).where(Upload.exam_point_id == ep.id).order_by(Upload.id))]
        if job is None:  # an audit still running when the page is opened again is shown too
            running = s.scalar(select(Job).where(Job.exam_point_id == ep.id, Job.state.in_(("queued", "running")))
                               .order_by(Job.id.desc()).limit(1))
            job = running.id if running else None
    cameras, missing, config_error = [], [], None
    try:
        cfg = eps.config_of(settings, ep)
        cameras = [{"room": r.id, "room_name": r.name, "id": c.id, "footage": c.footage} for r, c in cfg.cameras()]
        missing = eps.missing_footage(settings, ep)
    except InputError as exc:
        config_error = str(exc)
    text_keys = ("speed", "waiting", "uploaded", "pick_role", "average")
    payload = {
        "exam_point": ep.code, "tus_endpoint": TUS_ENDPOINT,
        "detail_url": f"/api/v1/exam-points/{ep.code}", "audit_url": f"/api/v1/exam-points/{ep.code}/audits",
        "page_url": f"/upload?exam_point={ep.code}",
        "text": {**{k: t(k, lang) for k in text_keys}, "failed": t("upload_failed", lang)},
    }
    return {"ep": ep, "cameras": cameras, "missing": missing, "config_error": config_error, "uploads": uploads,
            "job_id": job, "payload": payload}


@router.get("/upload")
def upload_page(request: Request, exam_point: str = "", job: int | None = None,
                user: Principal = Depends(require_role("auditor"))):
    lang = lang_of(request)
    if exam_point:
        ctx = _exam_point_ctx(request, user, exam_point, job, lang)
    else:
        with request.app.state.db.session() as s:
            ctx = {"ep": None, "exam_points": [{"code": e.code, "name": e.name, "city": e.city}
                                               for e in eps.visible_exam_points(s, user)]}
    return render(request, "pages/upload.html.j2", ctx, user, nav="upload")


@router.post("/upload/exam-points")
def upload_new_exam_point(request: Request, yaml: str = Form(""), user: Principal = Depends(require_role("auditor"))):
    """The same service as ``POST /api/v1/exam-points``: the YAML is checked as ``examaudit audit`` checks it."""
    lang = lang_of(request)
    settings = request.app.state.settings
    try:
        with request.app.state.db.session() as s:
            ep = eps.create_from_yaml(s, settings, user, yaml.encode("utf-8"))
            code = ep.code
    except (InputError, eps.NotVisible) as exc:
        msg = t("not_found", lang) if isinstance(exc, eps.NotVisible) else f"{t('config_invalid', lang)}{exc}"
        with request.app.state.db.session() as s:
            eps_list = [{"code": e.code, "name": e.name, "city": e.city} for e in eps.visible_exam_points(s, user)]
        return render(request, "pages/upload.html.j2", {"ep": None, "exam_points": eps_list, "error": msg,
                                                         "yaml_text": yaml}, user, status_code=422, nav="upload")
    return RedirectResponse(f"/upload?exam_point={code}", status_code=303)


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: RowId, user: Principal = Depends(current_user)):
    """The job's progress box; it polls itself every second while the job is queued or running."""
    with request.app.state.db.session() as s:
        job = s.get(Job, job_id)
        job = check_job(s, user, job)  # a screening: its scope; an audit: its exam point's city
        ep = s.get(ExamPoint, job.exam_point_id) if job.exam_point_id is not None else None
        view, code = job_view(job), ep.code if ep else None
    return render(request, "pages/_job.html.j2", {"job": view, "code": code}, user)
