"""The finding page: reasons, evidence frames and clip, details, review with history, next/previous."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select

from ...errors import InputError
from ...report.model import fmt_footage, fmt_wall
from ..models import Review
from ..pageviews import kind_title
from ..security import Principal, current_user, require_role
from ..services import clips as clips_service
from ..services import reviews as svc
from ..services.exam_points import audit_dir, exam_point_dir
from .pages_common import is_htmx, lang_of, masker, render
from .pages_text import t

router = APIRouter(tags=["pages"], include_in_schema=False)


def _review_ctx(request: Request, user: Principal, finding_id: str) -> dict:
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep, f = svc.locate_finding(s, settings, user, finding_id)
        r = s.scalar(select(Review).where(Review.exam_point_id == ep.id, Review.finding_id == finding_id))
        return {"ep": ep, "f": f, "review": svc.review_view(r) if r else None, "history": svc.history(s, ep, finding_id)}


def _clip_cache(request: Request, code: str):
    return exam_point_dir(request.app.state.settings, code) / "clips-web"


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: str, user: Principal = Depends(current_user)):
    lang = lang_of(request)
    settings = request.app.state.settings
    ctx = _review_ctx(request, user, finding_id)
    ep, f = ctx["ep"], ctx["f"]
    ordered = _report_order(svc.findings_of(settings, ep.code))
    ids = [x.id for x in ordered]
    i = ids.index(f.id)
    mask, mask_text = masker(user)
    frames = [{"url": f"/api/v1/findings/{f.id}/evidence/{n}", "caption": mask_text(ev.caption or ""), "t_s": ev.t_s,
               "sha256": ev.sha256}
              for n, ev in enumerate(f.evidence) if ev.type in ("frame", "crop", "chart")]
    clip_sources, clip_message = [], None
    if f.start_s is not None and f.recording:
        original = clips_service.original_of(audit_dir(settings, ep.code), f)
        if original is not None:
            # The stream-copied clip first when browsers play its container; the preview is made on demand.
            preview = {"src": f"/findings/{f.id}/clip/preview.webm", "type": "video/webm"}
            if clips_service.clip_suffix(original) in clips_service.BROWSER_CONTAINERS:
                clip_sources = [{"src": f"/findings/{f.id}/clip", "type": "video/mp4"}, preview]
            else:
                clip_sources = [preview]
        else:
            clip_message = t("clip_unavailable", lang)
    else:
        clip_message = t("clip_none", lang)
    details = [(k, mask(k, v)) for k, v in f.details.items() if k != "key"]
    return render(request, "pages/finding.html.j2", {
        **ctx, "index": i + 1, "total": len(ids),
        "prev_id": ids[i - 1] if i > 0 else None, "next_id": ids[i + 1] if i + 1 < len(ids) else None,
        "frames": frames, "clip_sources": clip_sources, "clip_download": f"/findings/{f.id}/clip?original=1", "clip_message": clip_message, "details": details,
        "wall": fmt_wall(f.wall_start, f.wall_end),
        "footage": f"{fmt_footage(f.start_s)}–{fmt_footage(f.end_s)}" if f.start_s is not None else "—",
        "kind_title": lambda k: kind_title(k, lang), "now": datetime.now(timezone.utc),
    }, user, nav="dashboard")


def _report_order(findings):
    from ...findings import Severity

    return sorted(findings, key=lambda f: (-Severity(f.severity).rank, f.start_s if f.start_s is not None else -1.0, f.id))


@router.get("/findings/{finding_id}/review")
def review_panel(request: Request, finding_id: str, user: Principal = Depends(current_user)):
    """The review box alone (the page swaps it in after a decision went through the API)."""
    return render(request, "pages/_review.html.j2", _review_ctx(request, user, finding_id), user)


@router.post("/findings/{finding_id}/review")
def review_submit(request: Request, finding_id: str, decision: str = Form(""), comment: str = Form(""),
                  user: Principal = Depends(require_role("reviewer"))):
    """Without JavaScript the form posts here; the same service as ``POST /api/v1/findings/{id}/review``."""
    settings = request.app.state.settings
    lang = lang_of(request)
    error = None
    with request.app.state.db.session() as s:
        ep, _f = svc.locate_finding(s, settings, user, finding_id)
        try:
            svc.record_decision(s, ep, finding_id, decision, comment, user)
        except HTTPException as exc:
            if exc.status_code != 422:
                raise
            error = t("comment_required", lang) if decision == "dismissed" else str(exc.detail)
    if error is None and not is_htmx(request):
        return RedirectResponse(f"/findings/{finding_id}", status_code=303)
    ctx = _review_ctx(request, user, finding_id)
    return render(request, "pages/_review.html.j2", {**ctx, "saved": error is None, "review_error": error,
                                                     "comment": comment}, user,
                  status_code=200 if is_htmx(request) else 422)


@router.get("/findings/{finding_id}/clip")
def finding_clip(request: Request, finding_id: str, original: bool = False, user: Principal = Depends(current_user)):
    """The clip for the player (timestamps from zero), or with ``?original=1`` exactly as the pack cuts it."""
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep, f = svc.locate_finding(s, settings, user, finding_id)
    try:
        clip = clips_service.finding_clip(audit_dir(settings, ep.code), f, _clip_cache(request, ep.code))
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    path = clip.clip if original else clip.web
    headers = {"Cache-Control": "private, max-age=3600"}
    if original:
        headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return FileResponse(path, media_type=clip.mime, headers=headers)


@router.get("/findings/{finding_id}/clip/preview.webm")
def finding_clip_preview(request: Request, finding_id: str, user: Principal = Depends(current_user)):
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep, f = svc.locate_finding(s, settings, user, finding_id)
    try:
        path = clips_service.finding_preview(audit_dir(settings, ep.code), f, _clip_cache(request, ep.code))
    except InputError as exc:
        raise HTTPException(404, str(exc)) from None
    return FileResponse(path, media_type="video/webm", headers={"Cache-Control": "private, max-age=3600"})
