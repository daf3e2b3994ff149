"""Cases, 附表1, 典型案例 and call lists (学员电话回访) over JSON. HTTP only: services do the work."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from ...errors import InputError
from ..models import ExamPoint
from ..openapi import file_download
from ..openapi import RowId
from ..security import Principal, current_user, require_role, visible_exam_point
from ..services import callbacks as cb
from ..services import cases as svc

router = APIRouter(prefix="/api/v1", tags=["cases"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _tmp(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    import os

    os.close(fd)
    return Path(name)


def _file(path: Path, filename: str, media: str) -> FileResponse:
    return FileResponse(path, media_type=media, filename=filename, background=BackgroundTask(path.unlink, missing_ok=True))


# -- cases ---------------------------------------------------------------------------------------

class OpenCaseIn(BaseModel):
    finding_ids: list[str] = Field(min_length=1, description="confirmed findings of this exam point")
    inspected_on: date | None = None
    due_on: date | None = Field(None, description="rectification due date (default 30 days after the inspection)")
    unit_type: str = "考试机构"
    unit_name: str | None = None
    county: str = ""
    summary: str = Field("", max_length=4000)


@router.post("/exam-points/{exam_point_id}/cases", status_code=201)
def open_case(body: OpenCaseIn, request: Request, ep: ExamPoint = Depends(visible_exam_point),
              user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        row = svc.open_from_findings(s, request.app.state.settings, user, ep, body.finding_ids,
                                     inspected_on=body.inspected_on, due_on=body.due_on, unit_type=body.unit_type,
                                     unit_name=body.unit_name, county=body.county, summary=body.summary)
        out = svc.case_view(row)
    request.app.state.log.info("case opened", extra={"case": out["case_id"], "user": user.name})
    return out


@router.get("/cases")
def list_cases(request: Request, exam_point: str | None = None, user: Principal = Depends(current_user)) -> list[dict]:
    with request.app.state.db.session() as s:
        return [svc.case_view(r) for r in svc.visible_cases(s, user, exam_point=exam_point)]


@router.post("/cases/import")
def import_cases(request: Request, file: UploadFile = File(...), user: Principal = Depends(require_role("auditor"))) -> dict:
    """A bureau's register (.csv or .xlsx with an optional 问题 sheet); rows replace cases with the same 案件编号."""
    from ...cases.register import read_register

    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise HTTPException(422, "a case register is .csv or .xlsx")
    tmp = _tmp(suffix)
    try:
        tmp.write_bytes(file.file.read(64 * 1024 * 1024 + 1)[: 64 * 1024 * 1024])
        try:
            reg = read_register(tmp)
        except InputError as exc:
            raise HTTPException(422, str(exc).replace(str(tmp), file.filename or "upload")) from None
        with request.app.state.db.session() as s:
            added, updated = svc.import_register(s, reg, user.name, city=user.city)
    finally:
        tmp.unlink(missing_ok=True)
    return {"added": added, "updated": updated}


@router.get("/cases/export.xlsx", **file_download(XLSX))
def export_cases(request: Request, user: Principal = Depends(current_user)):
    from ...cases.register import write_register

    with request.app.state.db.session() as s:
        cases = [svc.to_case(r) for r in svc.visible_cases(s, user)]
    path = write_register(list(reversed(cases)), _tmp(".xlsx"))
    return _file(path, "案件登记表.xlsx", XLSX)


@router.get("/cases/{case}")
def get_case(case: str, request: Request, user: Principal = Depends(current_user)) -> dict:
    with request.app.state.db.session() as s:
        return svc.case_view(svc.get_visible_case(s, user, case))


class OutcomeIn(BaseModel):
    outcomes: list[str] = Field(description="无问题 | 限期整改 | 停业整顿 | 罚款 | 移送公安机关")
    fine_wan: float | None = None
    referred_clues: int | None = None
    unlicensed_persons: int | None = None


@router.post("/cases/{case}/outcome")
def set_outcome(case: str, body: OutcomeIn, request: Request, user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        row = svc.get_visible_case(s, user, case)
        return svc.case_view(svc.set_outcome(s, row, body.outcomes, body.fine_wan, body.referred_clues,
                                             body.unlicensed_persons))


class RectifyIn(BaseModel):
    done_on: date | None = Field(None, description="the day it was rectified; empty: not yet")
    due_on: date | None = None


@router.post("/cases/{case}/problems/{problem_id}")
def rectify(case: str, problem_id: RowId, body: RectifyIn, request: Request,
            user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        row = svc.get_visible_case(s, user, case)
        return svc.case_view(svc.set_rectification(s, row, problem_id, body.done_on, body.due_on))


class CloseIn(BaseModel):
    closed_on: date | None = None


@router.post("/cases/{case}/close")
def close(case: str, body: CloseIn, request: Request, user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        return svc.case_view(svc.close_case(s, svc.get_visible_case(s, user, case), body.closed_on))


@router.get("/cases/{case}/typical.{fmt}", **file_download(DOCX, "text/markdown"))
def typical(case: str, fmt: str, request: Request, user: Principal = Depends(current_user)):
    """典型案例 of a closed case: ``docx``, or ``md`` (a zip of the Markdown and its frames when it has frames)."""
    from ...cases.typical import write_docx, write_markdown

    if fmt not in ("docx", "md"):
        raise HTTPException(404, "typical cases are .docx or .md")
    with request.app.state.db.session() as s:
        row = svc.get_visible_case(s, user, case)
        tc = svc.typical_for(s, request.app.state.settings, row)
        name = row.case_id
    title = f"典型案例：{tc.title}"
    if fmt == "docx":
        return _file(write_docx([tc], _tmp(".docx"), title), f"典型案例-{name}.docx", DOCX)
    folder = Path(tempfile.mkdtemp())
    md = write_markdown([tc], folder / f"典型案例-{name}.md", title)
    if not tc.frames:
        text = md.read_text(encoding="utf-8")
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        return Response(text, media_type="text/markdown; charset=utf-8")
    import shutil

    archive = Path(shutil.make_archive(str(folder), "zip", folder))
    shutil.rmtree(folder, ignore_errors=True)
    return _file(archive, f"典型案例-{name}.zip", "application/zip")


@router.get("/bulletin.docx", **file_download(DOCX))
def quarterly_bulletin(quarter: str, request: Request, user: Principal = Depends(current_user)):
    """一季度一通报: the closed cases of ``quarter`` (e.g. 2024Q3) as typical cases grouped by type (一类一通报)."""
    import re

    from ...cases.typical import bulletin_cases, write_docx

    m = re.fullmatch(r"(\d{4})Q([1-4])", quarter.strip().upper())
    if not m:
        raise HTTPException(422, "quarter must look like 2024Q3")
    year, q = int(m[1]), int(m[2])
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        rows = [r for r in svc.visible_cases(s, user) if r.closed_on and r.closed_on.year == year
                and (r.closed_on.month - 1) // 3 + 1 == q]
        tcs = [svc.typical_for(s, settings, r) for r in rows]
    title = f"{user.city or '全省'}房屋市政工程领域安全生产资格证书涉假典型案例通报（{year}年第{q}季度）"
    return _file(write_docx(bulletin_cases(tcs), _tmp(".docx"), title), f"典型案例通报-{year}Q{q}.docx", DOCX)


# -- 附表1 ---------------------------------------------------------------------------------------

def _period(month: str | None, period: str | None):
    from ...cases.tally import reporting_period

    try:
        return reporting_period(month, period)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/form1")
def form1_json(request: Request, month: str | None = None, period: str | None = None, city: str | None = None,
               user: Principal = Depends(current_user)) -> dict:
    """附表1's cells for a reporting month (or ``period=START..END``): the user's city, or the province."""
    from ...cases.tally import FORM1_COLUMNS

    p = _period(month, period)
    with request.app.state.db.session() as s:
        t = svc.form1_for(s, user, p, city)
    return {"year": p.year, "month": p.month, "period": {"start": p.start.isoformat(), "end": p.end.isoformat()},
            "columns": [{"unit_type": c.unit_type, "title": c.title} for c in FORM1_COLUMNS],
            "rows": [{"city": c, "cells": t.cells[c]} for c in t.cities], "counted": t.counted, "outside": t.outside,
            "unknown": [u.text() for u in t.unknown]}


@router.get("/form1.xlsx", **file_download(XLSX))
def form1_xlsx(request: Request, month: str | None = None, period: str | None = None, city: str | None = None,
               unit: str = "", filler: str = "", contact: str = "", filled_on: str = "",
               user: Principal = Depends(current_user)):
    from ...report.form1 import FormHeader, write_form1

    p = _period(month, period)
    with request.app.state.db.session() as s:
        t = svc.form1_for(s, user, p, city)
    path = write_form1(t, _tmp(".xlsx"), FormHeader(unit, filler, contact, filled_on))
    return _file(path, f"附表1-{p.year}年{p.month}月份.xlsx", XLSX)


# -- call lists ----------------------------------------------------------------------------------

class PlanIn(BaseModel):
    session: str
    precision: float = Field(0.10, gt=0, le=0.5)
    confidence: float = Field(0.95, gt=0, lt=1)
    planning_rate: float = Field(0.10, ge=0, le=1)
    seed: int | None = None


@router.post("/exam-points/{exam_point_id}/callbacks", status_code=201)
def plan_callbacks(body: PlanIn, request: Request, ep: ExamPoint = Depends(visible_exam_point),
                   user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        row = cb.create_plan(s, request.app.state.settings, user, ep, body.session, precision=body.precision,
                             confidence=body.confidence, planning_rate=body.planning_rate, seed=body.seed)
        return cb.plan_view(row, user)


@router.get("/callbacks")
def list_plans(request: Request, exam_point: str | None = None, user: Principal = Depends(current_user)) -> list[dict]:
    with request.app.state.db.session() as s:
        return [{k: v for k, v in cb.plan_view(p, user).items() if k != "calls"} for p in cb.plans_of(s, user, exam_point)]


@router.get("/callbacks/reveals")
def reveal_log(request: Request, exam_point: str | None = None, user: Principal = Depends(require_role("admin"))) -> list[dict]:
    """Who was shown which candidate's phone number in full, and when (admin)."""
    with request.app.state.db.session() as s:
        return cb.reveals(s, exam_point)


@router.get("/callbacks/{plan_id}")
def get_plan(plan_id: RowId, request: Request, user: Principal = Depends(current_user)) -> dict:
    with request.app.state.db.session() as s:
        return cb.plan_view(cb.visible_plan(s, user, plan_id), user)


@router.post("/callbacks/{plan_id}/calls/{call_id}/phone")
def reveal(plan_id: RowId, call_id: RowId, request: Request, user: Principal = Depends(current_user)) -> dict:
    """The full phone number (auditor, admin); every reveal is logged."""
    with request.app.state.db.session() as s:
        phone = cb.reveal_phone(s, user, cb.visible_plan(s, user, plan_id), call_id)
    request.app.state.log.info("phone revealed", extra={"plan": plan_id, "call": call_id, "user": user.name})
    return {"phone": phone}


class AnswersIn(BaseModel):
    called_at: str
    outcome: str = Field(description="接通 | 无法接通 | 空号 | 拒访 (or reached, unreachable, wrong_number, refused)")
    sat_exam_in_person: str = ""
    room_answer: str = ""
    invigilator_answer: str = ""
    paid_intermediary: str = ""
    certificate_answer: str = ""
    attended_training: str = ""
    notes: str = Field("", max_length=4000)


@router.post("/callbacks/{plan_id}/calls/{call_id}")
def answer(plan_id: RowId, call_id: RowId, body: AnswersIn, request: Request,
           user: Principal = Depends(require_role("auditor"))) -> dict:
    with request.app.state.db.session() as s:
        plan = cb.visible_plan(s, user, plan_id)
        return cb.call_view(cb.record_answers(s, user, plan, call_id, body.model_dump()), user)


@router.get("/callbacks/{plan_id}/calls.xlsx", **file_download(XLSX))
def export_plan(plan_id: RowId, request: Request, user: Principal = Depends(current_user)):
    """The call list for the call team: numbers in full for auditors (each one logged), masked otherwise."""
    with request.app.state.db.session() as s:
        plan = cb.visible_plan(s, user, plan_id)
        path = cb.export_xlsx(s, user, plan, _tmp(".xlsx"))
        name = f"回访名单-{plan.exam_point}-{plan.session}.xlsx"
    return _file(path, name, XLSX)


@router.post("/callbacks/{plan_id}/import")
def import_plan_answers(plan_id: RowId, request: Request, file: UploadFile = File(...),
                        user: Principal = Depends(require_role("auditor"))) -> dict:
    tmp = _tmp(".xlsx")
    try:
        tmp.write_bytes(file.file.read(16 * 1024 * 1024))
        with request.app.state.db.session() as s:
            n = cb.import_answers(s, user, cb.visible_plan(s, user, plan_id), tmp)
    finally:
        tmp.unlink(missing_ok=True)
    return {"answered": n}


@router.post("/exam-points/{exam_point_id}/callbacks/apply")
def apply_answers(request: Request, ep: ExamPoint = Depends(visible_exam_point),
                  user: Principal = Depends(require_role("auditor"))) -> dict:
    """Answered calls become the exam point's callbacks input; an audit is queued to rescreen it."""
    with request.app.state.db.session() as s:
        ep = s.merge(ep)
        out = cb.apply_to_records(s, request.app.state.settings, user, ep)
    request.app.state.queue.enqueue(out["job"])
    return out
