"""Exam points: import a zip, create from YAML, list, read, start audits, findings, downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ...errors import DiskFull, InputError
from ..models import ExamPoint, Job
from ..openapi import file_download
from ..security import Principal, current_user, require_role, visible_exam_point
from ..services import exam_points as svc
from ..services.disk import INSUFFICIENT_STORAGE, ensure_room
from ..services.jobs import create_job, job_view
from ..services.reports import DOWNLOADS, ensure_current, log_download
from ..services.reviews import findings_with_reviews

router = APIRouter(prefix="/api/v1/exam-points", tags=["exam points"])


def _refused(exc: InputError) -> HTTPException:
    return HTTPException(INSUFFICIENT_STORAGE if isinstance(exc, DiskFull) else getattr(exc, "status", 422), str(exc))


def _queue(request: Request, job_id: int) -> None:
    request.app.state.queue.enqueue(job_id)
    request.app.state.log.info("job queued", extra={"job": job_id})


@router.post("/import", status_code=202)
def import_exam_point(request: Request, file: UploadFile = File(...),
                      user: Principal = Depends(require_role("auditor"))) -> dict:
    """A zip of an exam point folder (exam_point.yaml, footage/, records/) -> 202 {exam_point, job}."""
    settings = request.app.state.settings
    if file.size is not None:
        ensure_room(settings, f"zip {file.filename}", file.size)
    with tempfile.NamedTemporaryFile(dir=settings.uploads_dir, prefix=".zip-", suffix=".zip") as tmp:
        copied = 0
        while chunk := file.file.read(1024 * 1024):
            copied += len(chunk)
            if copied > settings.max_import_bytes:
                raise HTTPException(413, f"the zip is larger than {settings.max_import_bytes} bytes")
            tmp.write(chunk)
        tmp.flush()
        try:
            with request.app.state.db.session() as s:
                ep, job = svc.import_zip(s, settings, user, Path(tmp.name))
                out = {"exam_point": ep.id, "code": ep.code, "job": job.id}
        except svc.NotVisible:
            raise HTTPException(404, "exam point not found") from None
        except InputError as exc:
            raise _refused(exc) from None
    _queue(request, out["job"])
    request.app.state.log.info("exam point imported", extra={**out, "user": user.name})
    return out


@router.post("", status_code=201)
async def create_exam_point(request: Request, user: Principal = Depends(require_role("auditor"))) -> dict:
    """The exam_point.yaml as the body (or a multipart field ``file``); footage then comes by tus."""
    settings = request.app.state.settings
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "multipart field 'file' with exam_point.yaml is missing")
        text = await upload.read(1024 * 1024 + 1)
    else:
        text = (await request.body())

    def create() -> dict:  # database and files: in the threadpool, not on the event loop every request shares
        try:
            with request.app.state.db.session() as s:
                ep = svc.create_from_yaml(s, settings, user, text)
                return svc.summary(s, ep)
        except svc.NotVisible:
            raise HTTPException(404, "exam point not found") from None
        except InputError as exc:
            raise _refused(exc) from None

    return await run_in_threadpool(create)


@router.get("")
def list_exam_points(request: Request, user: Principal = Depends(current_user)) -> list[dict]:
    with request.app.state.db.session() as s:
        return [svc.summary(s, ep) for ep in svc.visible_exam_points(s, user)]


@router.get("/{exam_point_id}")
def get_exam_point(request: Request, ep: ExamPoint = Depends(visible_exam_point)) -> dict:
    from sqlalchemy import select

    from ..models import Upload

    with request.app.state.db.session() as s:
        out = svc.summary(s, ep)
        out["uploads"] = [{"id": u.id, "role": u.role, "room": u.room, "camera": u.camera, "filename": u.filename,
                           "path": u.rel_path, "sha256": u.sha256, "size": u.size, "by": u.uploaded_by,
                           "at": u.created_at.isoformat()}
                          for u in s.scalars(select(Upload).where(Upload.exam_point_id == ep.id).order_by(Upload.id))]
        out["jobs"] = [job_view(j) for j in s.scalars(select(Job).where(Job.exam_point_id == ep.id).order_by(Job.id))]
    try:
        out["missing_footage"] = svc.missing_footage(request.app.state.settings, ep)
    except InputError as exc:
        out["missing_footage"], out["config_error"] = None, str(exc)
    return out


@router.post("/{exam_point_id}/audits", status_code=202)
def start_audit(request: Request, ep: ExamPoint = Depends(visible_exam_point),
                user: Principal = Depends(require_role("auditor"))) -> dict:
    """Audit what has been uploaded; finished recordings of earlier runs are reused."""
    with request.app.state.db.session() as s:
        ep = s.get(ExamPoint, ep.id)
        job = create_job(s, ep, user)
        out = {"exam_point": ep.id, "code": ep.code, "job": job.id,
               "missing_footage": svc.missing_footage(request.app.state.settings, ep)}
    _queue(request, out["job"])
    return out


@router.get("/{exam_point_id}/findings")
def findings(request: Request, ep: ExamPoint = Depends(visible_exam_point),
             user: Principal = Depends(current_user)) -> list[dict]:
    with request.app.state.db.session() as s:
        return findings_with_reviews(s, request.app.state.settings, ep, user)


def _download(name: str):
    def route(request: Request, ep: ExamPoint = Depends(visible_exam_point),
              user: Principal = Depends(current_user)):
        out = ensure_current(request.app.state, ep)
        path = out / name
        if not path.is_file():
            return JSONResponse({"detail": f"no {name} yet: the exam point has no finished audit"}, status_code=404)
        log_download(out, name, user)
        request.app.state.log.info("download", extra={"file": name, "exam_point": ep.code, "user": user.name})
        filename = f"{ep.code}-{name}".replace("_", "-")
        return FileResponse(path, media_type=DOWNLOADS[name], filename=filename,
                            content_disposition_type="inline" if name.startswith("report") else "attachment")

    route.__name__ = "download_" + name.replace(".", "_")
    return route


for _path, _name in (("report.pdf", "report.pdf"), ("report.html", "report.html"),
                     ("evidence-pack.zip", "evidence_pack.zip")):
    router.add_api_route(f"/{{exam_point_id}}/{_path}", _download(_name), methods=["GET"],
                         **file_download(DOWNLOADS[_name].split(";")[0]))

