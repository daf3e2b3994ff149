"""The exam point page (coverage, head count, records charts, findings) and its seat-map editor."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ...errors import InputError
from ...findings import FindingKind
from ..models import ExamPoint, Job
from ..pageviews import exam_point_page, kind_title
from ..security import Principal, current_user, require_role, visible_exam_point
from ..services import exam_points as eps
from ..services import seat_maps
from ..services.jobs import job_view
from ..services.reports import decisions
from .pages_common import lang_of, masker, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _latest_job(request: Request, ep: ExamPoint) -> dict | None:
    with request.app.state.db.session() as s:
        j = s.scalar(select(Job).where(Job.exam_point_id == ep.id).order_by(Job.id.desc()).limit(1))
        return job_view(j) if j else None


def _cameras(request: Request, ep: ExamPoint) -> list[dict]:
    try:
        cfg = eps.config_of(request.app.state.settings, ep)
    except InputError:
        return []
    return [{"room": r.id, "id": c.id} for r, c in cfg.cameras()]


@router.get("/exam-points/{exam_point_id}")
def exam_point(request: Request, ep: ExamPoint = Depends(visible_exam_point), user: Principal = Depends(current_user)):
    lang = lang_of(request)
    settings = request.app.state.settings
    out = eps.audit_dir(settings, ep.code)
    page = None
    reviews = decisions(request.app.state.db, ep.code)
    if (out / "findings.json").is_file():
        page = exam_point_page(out, lang, user.sees_personal_data, reviews)
    q = None
    for f in page.findings if page else []:
        if f.kind == FindingKind.exam_point_risk:
            q = f.details.get("q_value")
    return render(request, "pages/exam_point.html.j2", {
        "ep": ep, "page": page, "reviews": reviews, "job": _latest_job(request, ep), "q_value": q,
        "cameras": _cameras(request, ep), "kind_title": lambda k: kind_title(k, lang),
    }, user, nav="dashboard")


def _config_path(request: Request, ep: ExamPoint):
    if not ep.config_path:
        raise HTTPException(404, "this exam point has no configuration yet")
    return request.app.state.settings.data_dir / ep.config_path


@router.get("/exam-points/{exam_point_id}/seats/{camera}")
def seat_editor(request: Request, camera: str, ep: ExamPoint = Depends(visible_exam_point),
                user: Principal = Depends(current_user)):
    lang = lang_of(request)
    settings = request.app.state.settings
    try:
        sm = seat_maps.load_seat_map(_config_path(request, ep), camera, eps.audit_dir(settings, ep.code))
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    mask, _ = masker(user)
    roster = [{**r, "name": mask("name", r["name"]), "id_number": mask("id_number", r["id_number"])} for r in sm.roster]
    has_frame = seat_maps.recording_available(eps.audit_dir(settings, ep.code), camera)
    from .pages_text import t

    text_keys = {"seat": "seat", "zone": "invigilator_zone", "corner": "corner", "unassigned": "unassigned",
                 "zone_help": "zone_help", "zone_short": "zone_short", "saved": "seats_saved", "error": "error",
                 "auto_done": "auto_done"}
    payload = {
        "exam_point": ep.code, "room": sm.room, "camera": sm.camera, "width": sm.width, "height": sm.height,
        "seats": sm.seats, "invigilator_zone": sm.invigilator_zone, "roster": roster,
        "editable": user.at_least("auditor"),
        "save_url": f"/exam-points/{ep.code}/seats/{camera}",
        "rerun_url": f"/api/v1/exam-points/{ep.code}/audits",
        "text": {k: t(v, lang) for k, v in text_keys.items()},
    }
    return render(request, "pages/seats.html.j2", {
        "ep": ep, "sm": sm, "payload": payload, "editable": user.at_least("auditor"),
        "frame_url": f"/exam-points/{ep.code}/seats/{camera}/frame.jpg" if has_frame else None, "frame_t": None,
    }, user, nav="dashboard")


@router.get("/exam-points/{exam_point_id}/seats/{camera}/frame.jpg")
def seat_frame(request: Request, camera: str, ep: ExamPoint = Depends(visible_exam_point),
               user: Principal = Depends(current_user)):
    settings = request.app.state.settings
    got = seat_maps.clear_frame(eps.audit_dir(settings, ep.code), camera, eps.exam_point_dir(settings, ep.code) / "seatmap")
    if got is None:
        raise HTTPException(404, "no picture of this camera yet")
    return Response(got[0], media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/exam-points/{exam_point_id}/seats/{camera}")
async def seat_save(request: Request, camera: str, ep: ExamPoint = Depends(visible_exam_point),
                    user: Principal = Depends(require_role("auditor"))):
    """Save through the same validation as exam_point.yaml: the new YAML becomes a new input folder."""
    settings = request.app.state.settings
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"detail": "the body must be JSON: {seats: [...], invigilator_zone: [...]}"}, status_code=422)
    if not isinstance(body, dict):
        return JSONResponse({"detail": "the body must be a JSON object"}, status_code=422)

    def save() -> None:  # files and database: in the threadpool, not on the event loop every request shares
        text = seat_maps.edited_config(_config_path(request, ep), camera, body.get("seats"), body.get("invigilator_zone"))
        with request.app.state.db.session() as s:
            eps.create_from_yaml(s, settings, user, text)

    try:
        await run_in_threadpool(save)
    except InputError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    request.app.state.log.info("seat map saved", extra={"exam_point": ep.code, "camera": camera, "user": user.name,
                                                        "seats": len(body.get("seats") or [])})
    return {"ok": True, "exam_point": ep.code, "camera": camera, "seats": len(body.get("seats") or []),
            "saved_at": datetime.now(timezone.utc).isoformat()}
