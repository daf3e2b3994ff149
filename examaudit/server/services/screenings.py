"""Screenings: the province screen (``examaudit screen``) over the exam points the server holds.

A screening job lays out a province folder *view* when it is started, then a worker runs the
library's :func:`examaudit.screen.screen_province` on it (the same call as the CLI)::

    DATA/screenings/<job>/province/exam_points/<code> -> DATA/exam_points/<code>/inputs/<n>
                                                        (relative symlink: the import its latest audit read)
    DATA/screenings/<job>/province/records/<role>.<ext> -> one import's records file (relative symlink),
                                                        only when every exam point that has records
                                                        holds the same province-wide export
    DATA/screenings/<job>/plan.json                     scope, exam points in, exam points left out
    DATA/screenings/<job>/out/                          screen_province's output folder

Nothing is copied: the views are symlinks to the import folders, whose files are hard links to
``originals/``. Without a province-wide records set there is no ``records/`` and the ranking is
from video alone (``screen_province`` never reads an exam point's own records: the records
screen ranks exam points against each other, so it needs one export covering them all).

Each exam point's finished recordings (``audit/video/<camera>/<recording>/`` with its
``done.json``) are hard-linked into the screening's output first, so ``analyse_job`` reuses
them when the file, parameters and camera setup are unchanged, and analyses only the rest.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...audit import records_inputs
from ...config import load_exam_point
from ...errors import InputError
from ..jobs import exam_point_lock
from ..models import Job, utcnow
from ..security import Principal
from ..settings import Settings

log = logging.getLogger("examaudit.server.jobs")
#: the summary files a screening writes, with their media types (the routes serve these only)
SCREENING_FILES = {"screening.html": "text/html; charset=utf-8", "screening.pdf": "application/pdf",
                   "exam_points.csv": "text/csv; charset=utf-8",
                   "screening.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: progress shares: recordings up to RECORDINGS_SHARE (by footage hours), then the later stages
RECORDINGS_SHARE = 0.85
STAGE_PROGRESS = {"merge": 0.86, "records": 0.88, "fusion": 0.9, "reports": 0.92, "summary": 0.95, "done": 0.97}
STAGE_ZH = {"recordings": "分析录像", "merge": "汇总录像", "records": "筛查全省记录", "fusion": "融合证据",
            "reports": "生成报告", "summary": "生成汇总", "done": "完成"}


def screening_dir(settings: Settings, job_id: int) -> Path:
    return settings.data_dir / "screenings" / str(job_id)


# ---------------------------------------------------------------- starting one
def start_screening(s: Session, settings: Settings, user: Principal) -> Job:
    """Create the screening job of every exam point ``user`` sees and lay out its province view.

    Exam points without a finished audit are left out (their footage may still be arriving;
    a screening would call it unreadable) and listed in ``plan.json``.

    Raises:
        InputError: no exam point the user sees has a finished audit.
    """
    from .exam_points import visible_exam_points

    eps = visible_exam_points(s, user)
    latest: dict[int, str] = {}
    if eps:
        for j in s.scalars(select(Job).where(Job.kind == "audit", Job.state == "done",
                                             Job.exam_point_id.in_([e.id for e in eps])).order_by(Job.id)):
            latest[j.exam_point_id] = j.config_path  # the last one wins
    included = [e for e in eps if e.id in latest and (settings.data_dir / latest[e.id]).is_file()]
    if not included:
        raise InputError("no exam point you can see has a finished audit yet: nothing to screen")
    job = Job(exam_point_id=None, kind="screening", city=user.city, config_path="", state="queued", progress=0.0,
              message="排队中 / queued", created_by=user.name, created_at=utcnow())
    s.add(job)
    s.flush()
    root = screening_dir(settings, job.id)
    job.config_path = str(root.relative_to(settings.data_dir))
    province = root / "province"
    (province / "exam_points").mkdir(parents=True)
    for ep in included:
        _link(province / "exam_points" / ep.code, (settings.data_dir / latest[ep.id]).parent)
    records = _province_records(settings, [settings.data_dir / latest[e.id] for e in included])
    if records:
        (province / "records").mkdir()
        for role, path in records.items():
            _link(province / "records" / f"{role}{path.suffix.lower()}", path)
    plan = {"city": user.city, "created_by": user.name,
            "exam_points": [{"id": e.id, "code": e.code, "city": e.city, "config": latest[e.id]} for e in included],
            "left_out": [{"code": e.code, "reason": "no finished audit"} for e in eps if e not in included],
            "records": sorted(records)}
    (root / "plan.json").write_text(json.dumps(plan, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return job


def _link(link: Path, target: Path) -> None:
    """A relative symlink: the data directory stays valid when it is restored somewhere else."""
    link.symlink_to(os.path.relpath(target.resolve(), link.parent.resolve()), target_is_directory=target.is_dir())


def _province_records(settings: Settings, configs: list[Path]) -> dict[str, Path]:
    """The province-wide records set, when there is one: every exam point that has records
    holds the same files (by sha256) for each role, and they include roster and scores."""
    from ...outputs import sha256_file

    seen: dict[str, tuple[str, Path]] = {}
    any_records = False
    for cfg_path in configs:
        try:
            files = records_inputs(load_exam_point(cfg_path))
        except InputError:
            return {}
        files = {r: p for r, p in files.items() if p.is_file()}
        if not files:
            continue
        if any_records and set(files) != set(seen):
            return {}  # different roles: not one export
        any_records = True
        for role, p in files.items():
            sha = sha256_file(p)
            if role in seen and seen[role][0] != sha:
                return {}  # each exam point's own export: the screen cannot rank them together
            seen.setdefault(role, (sha, p))
    if not {"roster", "scores"} <= set(seen):
        return {}
    return {r: p for r, (_, p) in seen.items()}


# ---------------------------------------------------------------- running one (in a worker)
def run_screening(state, job_id: int, progress) -> str:
    """Screen the job's province view; returns the job's closing message. ``progress`` is the
    job's throttled writer (raises JobCancelled when someone cancelled)."""
    from ...screen import screen_province
    from ...video.analyze import AnalyzeParams

    settings = state.settings
    root = screening_dir(settings, job_id)
    plan = json.loads((root / "plan.json").read_text(encoding="utf-8"))
    out = root / "out"
    params = AnalyzeParams(**settings.audit_params)  # as the audits: their done.json then match
    progress(0.0, "复用已完成的录像分析 / reusing finished recordings", force=True)
    for ep in plan["exam_points"]:
        with exam_point_lock(ep["id"]):  # an audit of it may be writing its folder
            _seed_recordings(settings, ep["code"], out / ep["code"])

    def on_progress(p) -> None:
        if p.stage == "recordings":
            share = p.hours_done / p.hours_total if p.hours_total > 0 else p.done / max(p.recordings_total, 1)
            value = RECORDINGS_SHARE * share
            text = f"{STAGE_ZH['recordings']} {p.done}/{p.recordings_total} / recordings"
        else:
            value = STAGE_PROGRESS.get(p.stage, RECORDINGS_SHARE)
            text = f"{STAGE_ZH.get(p.stage, p.stage)} / {p.stage}"
        progress(value, text, force=p.stage != "recordings")

    result = screen_province(root / "province", out, params=params, workers=settings.job_audit_workers,
                             lang="zh", show_personal_data=False, reports=False, on_progress=on_progress,
                             command=f"examaudit serve (screening job {job_id})")
    if settings.report_pdf:
        # Per exam point reports live with each exam point (reviews applied); the screening adds
        # only its summary, here printed to PDF as `examaudit screen` does.
        from ...report.screening import write_screening

        progress(0.98, "生成汇总 PDF / summary PDF", force=True)
        write_screening(result, out, lang="zh", pdf=True)
    counts = result.counts()
    message = (f"{len(result.ranked)} exam point(s) ranked; recordings analysed {counts['analysed']}, reused "
               f"{counts['reused']}, unreadable {counts['failed']}")
    if counts["error"] or result.errors:
        message += f"; {counts['error'] + len(result.errors)} internal error(s) (rerun to retry)"
    if plan["left_out"]:
        message += f"; {len(plan['left_out'])} exam point(s) left out (no finished audit)"
    return message


def _seed_recordings(settings: Settings, code: str, dest: Path) -> None:
    """Hard-link the exam point's finished recording folders into the screening's output
    (never over one already there: a rerun keeps its own)."""
    from .exam_points import audit_dir

    video = audit_dir(settings, code) / "video"
    if not video.is_dir():
        return
    for done in video.glob("*/*/done.json"):
        src = done.parent
        target = dest / src.relative_to(audit_dir(settings, code))
        if target.exists():
            continue
        stage = target.with_name(f".{target.name}.seed")
        shutil.rmtree(stage, ignore_errors=True)
        try:
            shutil.copytree(src, stage, copy_function=_link_or_copy)
            stage.rename(target)
        except OSError as exc:  # the screening analyses this recording itself
            shutil.rmtree(stage, ignore_errors=True)
            log.warning("recording not reused", extra={"path": str(src), "error": str(exc)})


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# ---------------------------------------------------------------- reading one
def visible_screening(s: Session, user: Principal, job_id: int) -> Job:
    """The screening job if ``user`` may read it: a province one needs a province user, a city
    one that city (or the province). Another city's is a 404 like a missing one."""
    job = s.get(Job, job_id)
    if job is None or job.kind != "screening" or not user.can_see_city(job.city):
        raise HTTPException(404, "screening not found")
    return job


def screening_view(settings: Settings, job: Job) -> dict:
    from .jobs import job_view

    root = screening_dir(settings, job.id)
    try:
        plan = json.loads((root / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        plan = {"exam_points": [], "left_out": [], "records": []}
    view = {**job_view(job), "city": job.city, "exam_points": [e["code"] for e in plan["exam_points"]],
            "left_out": plan["left_out"], "province_records": plan["records"], "ranked": None, "files": {}}
    out = root / "out"
    if job.state == "done" and (out / "exam_points.csv").is_file():
        from ...outputs import read_csv_rows

        view["ranked"] = read_csv_rows(out / "exam_points.csv")
        view["files"] = {n: f"/api/v1/screenings/{job.id}/{n}" for n in SCREENING_FILES if (out / n).is_file()}
    return view


def screening_file(settings: Settings, job: Job, name: str) -> Path:
    path = screening_dir(settings, job.id) / "out" / name
    if name not in SCREENING_FILES or job.state != "done" or not path.is_file():
        raise HTTPException(404, f"{name} not found")
    return path
