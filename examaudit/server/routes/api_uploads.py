"""tus 1.0 resumable uploads at ``/api/v1/uploads/`` (creation + termination), auditors only."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Request
from tuspyserver import create_tus_router

from ..security import Principal, require_role
from ..services.uploads import MAX_CREATION_BODY, HashingStorage, check_new_upload, complete_upload
from ..settings import Settings

PREFIX = "/api/v1/uploads"


def make_router(settings: Settings) -> APIRouter:
    storage = HashingStorage(str(settings.uploads_dir / "tus"))

    async def pre_create_dep(request: Request, user: Principal = Depends(require_role("auditor"))):
        if request.headers.get("upload-concat"):
            raise HTTPException(400, "the concatenation extension is not offered here")
        if int(request.headers.get("content-length") or 0) > MAX_CREATION_BODY:
            raise HTTPException(413, f"send at most {MAX_CREATION_BODY} bytes with the creation request; PATCH the rest")

        async def hook(metadata: dict, info: dict) -> None:
            await asyncio.to_thread(check_new_upload, request.app.state.db, settings, user, metadata, info.get("size"))

        return hook

    async def upload_complete_dep(request: Request, user: Principal = Depends(require_role("auditor"))):
        async def done(file_path: str, metadata: dict) -> None:
            up = await asyncio.to_thread(complete_upload, request.app.state.db, settings, storage, user,
                                         file_path, metadata)
            request.app.state.log.info("upload complete", extra={"exam_point": metadata.get("exam_point"),
                                                                 "file": up.filename, "sha256": up.sha256,
                                                                 "size": up.size, "user": user.name})

        return done

    tus = create_tus_router(
        prefix=PREFIX,
        files_dir=str(settings.uploads_dir / "tus"),
        max_size=settings.max_upload_bytes,
        pre_create_dep=pre_create_dep,
        upload_complete_dep=upload_complete_dep,
        storage=storage,
        days_to_keep=7,
        tags=["uploads"],
    )
    # The access rule runs before tuspyserver's own dependencies (its PATCH reads the body first).
    outer = APIRouter(dependencies=[Depends(require_role("auditor"))])
    outer.include_router(tus)
    return outer
