"""tus uploads: what an upload must name, where its bytes go, and its sha256 as they arrive.

An upload's tus metadata names ``exam_point`` (code), ``role`` (``footage`` with ``room`` and
``camera``, or a records role: roster, scores, responses, callbacks, certificates) and
``filename``. It is checked when the upload is created, before any byte is accepted. When the
last byte arrives the file moves to ``originals/<sha256>`` (read-only, stored once) and is
linked into the exam point's current input folder where its YAML expects it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import threading
from pathlib import Path, PurePosixPath

from fastapi import HTTPException
from sqlalchemy import func, select
from tuspyserver.storage.local import LocalFileStorage

from ...config import ExamPointConfig
from ...errors import InputError, disk_full, is_disk_full
from ..models import ExamPoint, Upload, utcnow
from ..security import Principal, check_city
from ..settings import Settings
from .disk import INSUFFICIENT_STORAGE, ensure_room
from .exam_points import RECORDS_ROLES, config_of
from .storage import CHUNK, check_relative_name, linked_original, store_original

RECORDS_EXTENSIONS = (".csv", ".xlsx", ".xls")
#: Creation-With-Upload puts the first bytes in the POST body, which is read whole: keep it small.
MAX_CREATION_BODY = 8 * 1024 * 1024


class HashingStorage(LocalFileStorage):
    """tuspyserver's local storage, writing each chunk straight to disk and hashing it on the way.

    The stock backend holds a whole PATCH body in memory until the request ends; a browser that
    sends a 4 GB file in one PATCH would need 4 GB. Here memory stays one chunk whatever the size.
    The running sha256 of each upload is kept with the offset it covers; after a restart (or
    bytes written by another path) it catches up by reading the part already on disk, once.
    """

    def __init__(self, files_dir: str) -> None:
        super().__init__(files_dir)
        self._hashers: dict[str, tuple[object, int]] = {}
        self._hash_lock = threading.Lock()

    def _caught_up(self, uid: str):
        """The hasher of ``uid`` covering every byte on disk now."""
        size = os.path.getsize(self._path(uid)) if os.path.exists(self._path(uid)) else 0
        with self._hash_lock:
            h, covered = self._hashers.get(uid, (None, 0))
        if h is None or covered != size:
            h, covered = hashlib.sha256(), 0
            with open(self._path(uid), "rb") as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
                    covered += len(chunk)
        return h, covered

    async def append(self, uid: str, chunk: bytes) -> None:
        def _do() -> None:
            h, covered = self._caught_up(uid)
            with open(self._path(uid), "ab") as f:
                f.write(chunk)
            h.update(chunk)
            with self._hash_lock:
                self._hashers[uid] = (h, covered + len(chunk))

        await self._on_disk(uid, _do)

    @contextlib.asynccontextmanager
    async def lock(self, uid: str):
        async with super().lock(uid):
            info = await self.read_info(uid)
            if info is not None:
                await asyncio.to_thread(self._cut_to_offset, uid, int(info.get("offset") or 0))
            yield

    def _cut_to_offset(self, uid: str, offset: int) -> None:
        """Drop bytes past the offset the server last told the client, before a PATCH writes.

        A PATCH refused halfway (it ran past Upload-Length or the size limit) or a server stopped
        between writing and saving the offset leaves bytes on disk the client never heard of. The
        client resumes from the told offset; appending after those bytes would corrupt the file.
        The hasher then covers more than the file holds and hashes it again from disk, once.
        """
        path = self._path(uid)
        if os.path.exists(path) and os.path.getsize(path) > offset:
            os.truncate(path, offset)

    async def flush(self, uid: str) -> None:
        def _do() -> None:
            with open(self._path(uid), "ab") as f:
                os.fsync(f.fileno())

        await self._on_disk(uid, _do)

    async def _on_disk(self, uid: str, write) -> None:
        """Run ``write`` in a thread; a full disk ends the PATCH with 507 (see :meth:`_give_back`)."""
        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            raise await self._give_back(uid) from None

    async def _give_back(self, uid: str) -> HTTPException:
        """After a full disk: the part cut back to the offset the server last confirmed; the 507 to send.

        The confirmed offset is the info file's (written when a PATCH ends), and a client resumes
        from it: bytes past it would sit between the two halves of the recording. So the bytes
        of this PATCH are given back to the disk, and the client sends them again once space is
        free. Keeping the confirmed part (rather than deleting the upload) spares a 4 GB recording
        from starting over; tus expiry (7 days) removes it if nobody resumes.
        """
        info = await self.read_info(uid)
        offset = int((info or {}).get("offset") or 0)

        def _cut() -> None:
            with self._hash_lock:
                self._hashers.pop(uid, None)
            if info is None:  # its creation did not fit: no upload to resume
                Path(self._path(uid)).unlink(missing_ok=True)
            elif os.path.exists(self._path(uid)):
                os.truncate(self._path(uid), offset)

        await asyncio.to_thread(_cut)
        size = (info or {}).get("size")
        name = ((info or {}).get("metadata") or {}).get("filename") or uid
        full = disk_full(self.files_dir, f"upload {name}", None if size is None else int(size) - offset)
        return HTTPException(INSUFFICIENT_STORAGE, f"{full} (resume from offset {offset})")

    def sha256(self, uid: str) -> str:
        h, _ = self._caught_up(uid)
        return h.hexdigest()

    def forget(self, uid: str) -> None:
        with self._hash_lock:
            self._hashers.pop(uid, None)
        for p in (self._info_path(uid), self._info_path(uid) + ".tmp"):
            Path(p).unlink(missing_ok=True)

    async def write_info(self, uid: str, data: dict) -> None:
        # HEAD (resume) insists on a filetype in the metadata; not every client sends one.
        meta = data.get("metadata")
        if isinstance(meta, dict):
            meta.setdefault("filetype", "application/octet-stream")
        try:
            await super().write_info(uid, data)
        except OSError as exc:
            # The bytes fitted but the new offset did not: the part must not keep bytes the info
            # does not count (a resume would append after them).
            if not is_disk_full(exc):
                raise
            raise await self._give_back(uid) from None

    async def delete(self, uid: str) -> None:
        with self._hash_lock:
            self._hashers.pop(uid, None)
        await super().delete(uid)


def target_path(cfg: ExamPointConfig, meta: dict) -> tuple[str, str, str | None, str | None, str]:
    """Check an upload's metadata against the YAML; (role, filename, room, camera, rel_path)."""
    role = (meta.get("role") or "").strip()
    filename = meta.get("filename") or meta.get("name") or ""
    try:
        filename = check_relative_name(filename, "filename")
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    if "/" in filename:
        raise HTTPException(422, f"filename {filename!r} must be a plain file name, without folders")
    if role == "footage":
        room, camera = meta.get("room"), meta.get("camera")
        try:
            r, cam = cfg.camera(camera or "")
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        if room and room != r.id:
            raise HTTPException(422, f"camera {camera} is in room {r.id}, not {room}")
        named = {PurePosixPath(rel).name: rel for rel in cam.footage}
        if filename not in named:
            raise HTTPException(422, f"exam_point.yaml does not list {filename!r} as footage of camera {camera} "
                                f"(it lists: {', '.join(named) or 'nothing'})")
        return role, filename, r.id, cam.id, check_relative_name(named[filename], "footage path")
    if role in RECORDS_ROLES:
        ext = os.path.splitext(filename)[1].lower()
        if ext not in RECORDS_EXTENSIONS:
            raise HTTPException(422, f"a {role} file must be {', '.join(RECORDS_EXTENSIONS)}, not {filename!r}")
        declared = cfg.records.model_dump().get(role)
        if declared:
            try:
                rel = check_relative_name(declared, f"records.{role}")
            except InputError:
                raise HTTPException(422, f"exam_point.yaml names records.{role} outside the exam point folder "
                                    f"({declared!r}); upload the YAML without that path") from None
        else:
            rel = f"records/{role}{ext}"
        return role, filename, None, None, rel
    raise HTTPException(422, f"role {role!r} is not footage or one of {', '.join(RECORDS_ROLES)}")


def check_new_upload(db, settings: Settings, user: Principal, meta: dict, size: int | None) -> None:
    """Refuse an upload before it starts: unknown or invisible exam point, bad names, limits."""
    code = (meta.get("exam_point") or "").strip()
    with db.session() as s:
        ep = check_city(user, s.scalar(select(ExamPoint).where(ExamPoint.code == code)) if code else None)
        n = s.scalar(select(func.count()).select_from(Upload).where(Upload.exam_point_id == ep.id))
        if n >= settings.max_uploads_per_exam_point:
            raise HTTPException(413, f"exam point {code} already has {n} uploads (limit {settings.max_uploads_per_exam_point})")
        try:
            cfg = config_of(settings, ep)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
    target_path(cfg, meta)
    if size is not None and size > settings.max_upload_bytes:
        raise HTTPException(413, f"{size} bytes is more than the {settings.max_upload_bytes} an upload may have")
    if size is not None:
        ensure_room(settings, f"upload {meta.get('filename') or meta.get('name')}", size)


def complete_upload(db, settings: Settings, storage: HashingStorage, user: Principal, file_path: str,
                    meta: dict) -> Upload:
    """The last byte arrived: store the original once, link it where the YAML expects it, record it."""
    uid = os.path.basename(file_path)
    sha = storage.sha256(uid)
    size = os.path.getsize(file_path)
    original = store_original(settings.originals_dir, Path(file_path), sha)
    storage.forget(uid)
    code = meta.get("exam_point", "").strip()
    with db.session() as s:
        ep = check_city(user, s.scalar(select(ExamPoint).where(ExamPoint.code == code)))
        cfg = config_of(settings, ep)
        role, filename, room, camera, rel = target_path(cfg, meta)
    # The row commits inside the link's block: if it cannot (a full disk), the file that was there
    # comes back, so the folder never holds bytes that no Upload row vouches for.
    with linked_original(original, cfg.base_dir / rel), db.session() as s:
        up = Upload(exam_point_id=ep.id, role=role, room=room, camera=camera, filename=filename, rel_path=rel,
                    sha256=sha, size=size, uploaded_by=user.name, created_at=utcnow())
        s.add(up)
    return up
