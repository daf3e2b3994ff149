"""Exam points: import a zip, create from YAML, list and read; each import is its own input folder.

On disk, per exam point::

    DATA/exam_points/<code>/inputs/<n>/...   the folder `examaudit audit` reads (files are
                                             symlinks into DATA/originals/<sha256>)
    DATA/exam_points/<code>/audit/           the run_audit output, shared by every run, so a
                                             rerun reuses each finished recording (done.json)
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...audit import CONFIG_NAME, records_inputs
from ...config import ExamPointConfig, load_exam_point
from ...errors import InputError, disk_full, is_disk_full
from ..models import ExamPoint, Job, Upload, row_id, utcnow
from ..security import Principal, check_city
from ..settings import Settings
from .disk import ensure_room
from .storage import check_name_lengths, check_relative_name, copy_hashed, link_original, store_original

_CODE = re.compile(r"^\w[\w.\-]{0,63}$")
_SKIP = ("__MACOSX/",)
RECORDS_ROLES = ("roster", "scores", "responses", "callbacks", "certificates")


class ImportRefused(InputError):
    """The zip or YAML is refused before anything is stored (HTTP 422, or 413 for size)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class NotVisible(Exception):
    """The exam point exists but belongs to a city the user does not see (answer as 404)."""


# ---------------------------------------------------------------- paths
def exam_point_dir(settings: Settings, code: str) -> Path:
    return settings.exam_points_dir / code


def audit_dir(settings: Settings, code: str) -> Path:
    return exam_point_dir(settings, code) / "audit"


def _new_input_dir(settings: Settings, code: str) -> Path:
    inputs = exam_point_dir(settings, code) / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    n = 1 + max((int(p.name) for p in inputs.iterdir() if p.name.isdigit()), default=0)
    d = inputs / str(n)
    d.mkdir()
    return d


def check_code(code: str) -> str:
    if not _CODE.match(code or "") or ".." in code:
        raise ImportRefused(f"exam_point code {code!r} cannot be used: letters, digits, '.', '_' and '-' only")
    return code


# ---------------------------------------------------------------- the zip
@dataclass
class ZipPlan:
    members: list[zipfile.ZipInfo]
    config_name: str  # member name of exam_point.yaml
    total_bytes: int


def check_zip(zf: zipfile.ZipFile, settings: Settings) -> ZipPlan:
    """Refuse a hostile zip before anything is written: names, links, sizes, compression ratio."""
    members, total, packed = [], 0, 0
    min_ratio_size = 1024 * 1024  # tiny members compress absurdly well and harm nobody
    for info in zf.infolist():
        name = info.filename
        try:
            check_relative_name(name, "zip member")
        except InputError as exc:
            raise ImportRefused(str(exc)) from None
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ImportRefused(f"zip member {name!r} is a symbolic link; links are refused")
        if info.is_dir() or name.startswith(_SKIP) or name.rsplit("/", 1)[-1] == ".DS_Store":
            continue
        if info.flag_bits & 0x1:
            raise ImportRefused(f"zip member {name!r} is encrypted")
        total += info.file_size
        packed += info.compress_size
        if info.file_size > min_ratio_size and info.file_size > settings.max_compression_ratio * max(info.compress_size, 1):
            raise ImportRefused(f"zip member {name!r} unpacks {info.file_size} bytes from {info.compress_size}: "
                                f"more than {settings.max_compression_ratio:g}x, refused as a zip bomb", 413)
        members.append(info)
    if len(members) > settings.max_import_files:
        raise ImportRefused(f"the zip holds {len(members)} files; at most {settings.max_import_files} are accepted", 413)
    if total > settings.max_import_bytes:
        raise ImportRefused(f"the zip unpacks to {total} bytes; at most {settings.max_import_bytes} are accepted", 413)
    if total > min_ratio_size and total > settings.max_compression_ratio * max(packed, 1):
        raise ImportRefused(f"the zip unpacks {total} bytes from {packed}: refused as a zip bomb", 413)
    names = {m.filename.replace("\\", "/").lstrip("./") for m in members}
    configs = sorted(n for n in names if n == CONFIG_NAME or (n.count("/") == 1 and n.endswith("/" + CONFIG_NAME)))
    if CONFIG_NAME in configs:
        config = CONFIG_NAME
    elif len(configs) == 1:
        config = configs[0]
    else:
        where = "none" if not configs else ", ".join(configs)
        raise ImportRefused(f"the zip needs one {CONFIG_NAME} at its root or in one top-level folder (found: {where})")
    return ZipPlan(members, config, total)


def _load_config(stage: Path, config_rel: str) -> ExamPointConfig:
    """Load and check the YAML; the error names the file as it is in the zip (like `examaudit audit`)."""
    try:
        cfg = load_exam_point(stage / config_rel)
    except InputError as exc:
        raise ImportRefused(str(exc).replace(f"{stage}/", "")) from None
    check_code(cfg.exam_point)
    root = stage.resolve()
    named = [rel for _, cam in cfg.cameras() for rel in cam.footage]
    named += [v for v in cfg.records.model_dump().values() if v]
    for rel in named:
        try:
            check_name_lengths(rel, f"{config_rel} names")
        except InputError as exc:
            raise ImportRefused(str(exc)) from None
        p = (cfg.base_dir / rel).resolve()
        if not p.is_relative_to(root):
            raise ImportRefused(f"{config_rel}: {rel!r} points outside the uploaded exam point folder")
    return cfg


def _roles_by_path(cfg: ExamPointConfig) -> dict[Path, tuple[str, str | None, str | None]]:
    roles: dict[Path, tuple[str, str | None, str | None]] = {}
    for room, cam in cfg.cameras():
        for rel in cam.footage:
            roles[cfg.resolve(rel).resolve()] = ("footage", room.id, cam.id)
    for role, path in records_inputs(cfg).items():
        roles[path.resolve()] = (role, None, None)
    return roles


def import_zip(s: Session, settings: Settings, user: Principal, zip_path: Path) -> tuple[ExamPoint, Job]:
    """Check, store and register a zipped exam point folder, and queue its audit.

    Raises:
        ImportRefused: the zip or its exam_point.yaml is refused (nothing stored).
        NotVisible: the code exists for another city than the user's.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(f"not a zip file: {exc}") from None
    with zf:
        plan = check_zip(zf, settings)
        ensure_room(settings, f"the zip's {len(plan.members)} files", plan.total_bytes)
        # Unpack the YAML alone first: a bad one is refused before any footage is stored.
        tmp = settings.uploads_dir / f".import-{utcnow().strftime('%Y%m%dT%H%M%S%f')}"
        tmp.mkdir(parents=True)
        try:
            cfg_member = next(m for m in plan.members if m.filename.replace("\\", "/").lstrip("./") == plan.config_name)
            (tmp / plan.config_name).parent.mkdir(parents=True, exist_ok=True)
            with zf.open(cfg_member) as src, open(tmp / plan.config_name, "wb") as out:
                out.write(src.read(1024 * 1024 + 1)[: 1024 * 1024])
            cfg = _load_config(tmp, plan.config_name)
            if not user.can_see_city(cfg.city):
                raise ImportRefused(f"exam point {cfg.exam_point} is in {cfg.city}, outside your city", 403)
            ep = _exam_point_for(s, settings, user, cfg)
            new_folder = not exam_point_dir(settings, cfg.exam_point).exists()
            dest = _new_input_dir(settings, cfg.exam_point)
            stored: list[tuple[str, Path, str, int]] = []
            try:
                for m in plan.members:
                    rel = check_relative_name(m.filename, "zip member")
                    with zf.open(m) as src:
                        try:
                            part, sha, size = copy_hashed(src, settings.uploads_dir, limit=m.file_size)
                        except InputError as exc:
                            raise ImportRefused(f"zip member {rel!r}: {exc}") from None
                        except OSError as exc:
                            if is_disk_full(exc):
                                raise disk_full(settings.data_dir, f"zip member {rel!r}", m.file_size) from None
                            raise
                    original = store_original(settings.originals_dir, part, sha)
                    link_original(original, dest / rel)
                    stored.append((rel, original, sha, size))
            except BaseException:
                # No half-unpacked input folder: the exam point keeps the folder it had (the rows go
                # with the session's rollback). Originals already stored stay: each is whole and
                # checked by its sha256, and a retry reuses it instead of needing its space again.
                from .storage import remove_tree

                remove_tree(exam_point_dir(settings, cfg.exam_point) if new_folder else dest)
                raise
        finally:
            from .storage import remove_tree

            remove_tree(tmp)
    config_path = dest / plan.config_name
    cfg = load_exam_point(config_path)
    roles = _roles_by_path(cfg)
    for rel, _original, sha, size in stored:
        role, room, cam = roles.get((dest / rel).resolve(), ("other", None, None))
        if rel == plan.config_name:
            role = "config"
        # Upload paths are kept relative to the YAML's folder, as the YAML names them.
        s.add(Upload(exam_point_id=ep.id, role=role, room=room, camera=cam, filename=rel.rsplit("/", 1)[-1],
                     rel_path=os.path.relpath(dest / rel, config_path.parent), sha256=sha, size=size,
                     uploaded_by=user.name, created_at=utcnow()))
    ep.config_path = str(config_path.relative_to(settings.data_dir))
    from .jobs import create_job

    job = create_job(s, ep, user)
    return ep, job


def _exam_point_for(s: Session, settings: Settings, user: Principal, cfg: ExamPointConfig) -> ExamPoint:
    """The exam point row for ``cfg`` (created if new; an existing one of another city is NotVisible)."""
    ep = s.scalar(select(ExamPoint).where(ExamPoint.code == cfg.exam_point))
    if ep is not None:
        if not user.can_see_city(ep.city):
            raise NotVisible(cfg.exam_point)
        ep.name, ep.city = cfg.name or ep.name, cfg.city or ep.city
        return ep
    ep = ExamPoint(code=cfg.exam_point, name=cfg.name or "", city=cfg.city, config_path="",
                   created_by=user.name, created_at=utcnow())
    s.add(ep)
    s.flush()
    return ep


def create_from_yaml(s: Session, settings: Settings, user: Principal, text: bytes) -> ExamPoint:
    """``POST /api/v1/exam-points``: a new input folder holding this YAML; uploads then fill it.

    Files already uploaded for this exam point are linked into the new folder at their places.
    """
    if len(text) > 1024 * 1024:
        raise ImportRefused(f"{CONFIG_NAME} is larger than 1 MB", 413)
    tmp = settings.uploads_dir / f".yaml-{utcnow().strftime('%Y%m%dT%H%M%S%f')}"
    tmp.mkdir(parents=True)
    try:
        (tmp / CONFIG_NAME).write_bytes(text)
        cfg = _load_config(tmp, CONFIG_NAME)
    finally:
        from .storage import remove_tree

        remove_tree(tmp)
    if not user.can_see_city(cfg.city):
        raise ImportRefused(f"exam point {cfg.exam_point} is in {cfg.city}, outside your city", 403)
    ep = _exam_point_for(s, settings, user, cfg)
    dest = _new_input_dir(settings, cfg.exam_point)
    try:
        (dest / CONFIG_NAME).write_bytes(text)
        for up in s.scalars(select(Upload).where(Upload.exam_point_id == ep.id, Upload.role != "config")
                            .order_by(Upload.id)):
            if not up.rel_path.startswith(".."):  # a file beside the old folder is not carried over
                link_original(settings.originals_dir / up.sha256, dest / up.rel_path)
    except BaseException:  # a full disk, say: no half-written folder (the rows roll back)
        from .storage import remove_tree

        remove_tree(dest)
        raise
    ep.config_path = str((dest / CONFIG_NAME).relative_to(settings.data_dir))
    return ep


def config_of(settings: Settings, ep: ExamPoint) -> ExamPointConfig:
    return load_exam_point(settings.data_dir / ep.config_path)


def missing_footage(settings: Settings, ep: ExamPoint) -> list[str]:
    """Footage the YAML names that has not arrived yet (an audit would report it unreadable)."""
    cfg = config_of(settings, ep)
    return [rel for _, cam in cfg.cameras() for rel in cam.footage if not cfg.resolve(rel).exists()]


# ---------------------------------------------------------------- reading
def visible_exam_points(s: Session, user: Principal) -> list[ExamPoint]:
    q = select(ExamPoint).order_by(ExamPoint.code)
    if user.city is not None:
        q = q.where(ExamPoint.city == user.city)
    return list(s.scalars(q))


def get_visible(s: Session, user: Principal, key: str | int) -> ExamPoint:
    """By numeric id or code; 404 (HTTPException) when missing or another city's."""
    if (rid := row_id(key)) is not None:
        ep = s.get(ExamPoint, rid)
    else:
        ep = s.scalar(select(ExamPoint).where(ExamPoint.code == key))
    return check_city(user, ep)


def summary(s: Session, ep: ExamPoint) -> dict:
    last = s.scalar(select(Job).where(Job.exam_point_id == ep.id).order_by(Job.id.desc()).limit(1))
    uploads = s.scalar(select(func.count()).select_from(Upload).where(Upload.exam_point_id == ep.id))
    return {
        "id": ep.id, "code": ep.code, "name": ep.name, "city": ep.city,
        "risk": ep.risk, "findings": ep.findings_count, "uploads": uploads,
        "status": last.state if last else "new", "last_job": last.id if last else None,
        "created_at": ep.created_at.isoformat() if ep.created_at else None, "created_by": ep.created_by,
    }
