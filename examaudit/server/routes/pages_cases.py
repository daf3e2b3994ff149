"""Pages for cases (案件), 附表1 and call lists (学员电话回访). HTTP only: the services decide.

Forms post back here (cookie session + CSRF field); the downloads are the JSON API's file routes.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from ...cases.model import OUTCOMES, UNIT_TYPES
from ...cases.tally import FORM1_COLUMNS, FORM1_GROUPS, REPORT_MONTHS
from ...findings import KIND_TITLES
from ..openapi import RowId
from ..security import Principal, current_user, require_role
from ..services import callbacks as cb
from ..services import cases as svc
from ..services.exam_points import get_visible
from .pages_common import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _int(v: str | None) -> int | None:
    return int(v) if v not in (None, "") else None


def _float(v: str | None) -> float | None:
    if v in (None, ""):
        return None
    try:
        return float(v)
    except ValueError:
        raise HTTPException(422, f"{v!r} is not a number") from None


@router.get("/cases")
def cases_page(request: Request, exam_point: str | None = None, user: Principal = Depends(current_user)):
    with request.app.state.db.session() as s:
        rows = [svc.case_view(r) for r in svc.visible_cases(s, user, exam_point=exam_point)]
    return render(request, "cases/list.html.j2", {"cases": rows, "exam_point": exam_point}, user, nav="cases")


@router.post("/cases/import")
def cases_import(request: Request, file: UploadFile = File(...), user: Principal = Depends(require_role("auditor"))):
    from .api_cases import import_cases

    out = import_cases(request, file, user)
    return _see_other(f"/cases?imported={out['added']}+{out['updated']}")


@router.get("/cases/{case}")
def case_page(case: str, request: Request, user: Principal = Depends(current_user)):
    with request.app.state.db.session() as s:
        v = svc.case_view(svc.get_visible_case(s, user, case))
    return render(request, "cases/case.html.j2", {"case": v, "outcomes": OUTCOMES, "today": date.today().isoformat()},
                  user, nav="cases")


@router.post("/cases/{case}/outcome")
def case_outcome(case: str, request: Request, outcomes: list[str] = Form(default=[]), fine_wan: str = Form(""),
                 referred_clues: str = Form(""), unlicensed_persons: str = Form(""),
                 user: Principal = Depends(require_role("auditor"))):
    with request.app.state.db.session() as s:
        row = svc.get_visible_case(s, user, case)
        svc.set_outcome(s, row, outcomes, _float(fine_wan), _int(referred_clues), _int(unlicensed_persons))
        rid = row.id
    return _see_other(f"/cases/{rid}")


@router.post("/cases/{case}/problems/{problem_id}")
def case_rectify(case: str, problem_id: RowId, request: Request, done_on: str = Form(""), due_on: str = Form(""),
                 user: Principal = Depends(require_role("auditor"))):
    with request.app.state.db.session() as s:
        row = svc.get_visible_case(s, user, case)
        svc.set_rectification(s, row, problem_id, done_on or None, due_on or None)
        rid = row.id
    return _see_other(f"/cases/{rid}")


@router.post("/cases/{case}/close")
def case_close(case: str, request: Request, closed_on: str = Form(""), user: Principal = Depends(require_role("auditor"))):
    with request.app.state.db.session() as s:
        row = svc.get_visible_case(s, user, case)
        svc.close_case(s, row, closed_on or None)
        rid = row.id
    return _see_other(f"/cases/{rid}")


@router.get("/exam-points/{code}/cases/new")
def new_case_page(code: str, request: Request, user: Principal = Depends(require_role("auditor"))):
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep = get_visible(s, user, code)
        found = svc.confirmed_findings(s, settings, ep)
    rows = [{"id": f.id, "kind": KIND_TITLES[f.kind][0], "reason": f.reason_zh, "severity": f.severity.value} for f in found]
    return render(request, "cases/new.html.j2", {"ep": ep, "findings": rows, "unit_types": UNIT_TYPES,
                                                 "today": date.today().isoformat()}, user, nav="cases")


@router.post("/exam-points/{code}/cases")
def new_case(code: str, request: Request, finding_ids: list[str] = Form(default=[]), inspected_on: str = Form(""),
             due_on: str = Form(""), unit_type: str = Form("考试机构"), unit_name: str = Form(""), county: str = Form(""),
             summary: str = Form(""), user: Principal = Depends(require_role("auditor"))):
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        ep = get_visible(s, user, code)
        row = svc.open_from_findings(s, settings, user, ep, finding_ids, inspected_on=svc._opt_date(inspected_on),
                                     due_on=svc._opt_date(due_on), unit_type=unit_type, unit_name=unit_name or None,
                                     county=county, summary=summary)
        rid = row.id
    return _see_other(f"/cases/{rid}")


@router.get("/form1")
def form1_page(request: Request, month: str | None = None, period: str | None = None, city: str | None = None,
               user: Principal = Depends(current_user)):
    from .api_cases import _period

    ctx: dict = {"month": month or "", "period": period or "", "city": city or "", "groups": FORM1_GROUPS,
                 "columns": FORM1_COLUMNS, "report_months": REPORT_MONTHS, "tally": None, "error": None}
    with request.app.state.db.session() as s:
        ctx["cities"] = sorted({r.city for r in svc.visible_cases(s, user)})
        if month or period:
            try:
                p = _period(month, period)
                ctx["tally"] = svc.form1_for(s, user, p, city)
            except HTTPException as exc:
                ctx["error"] = exc.detail
    ctx["spans"] = [sum(c.unit_type == u for c in FORM1_COLUMNS) for u, _ in FORM1_GROUPS]
    return render(request, "cases/form1.html.j2", ctx, user, nav="form1")


@router.get("/exam-points/{code}/callbacks")
def plans_page(code: str, request: Request, user: Principal = Depends(current_user)):
    with request.app.state.db.session() as s:
        ep = get_visible(s, user, code)
        plans = [cb.plan_view(p, user) for p in cb.plans_of(s, user, ep.code)]
    return render(request, "cases/callbacks.html.j2", {"ep": ep, "plans": plans}, user, nav="cases")


@router.post("/exam-points/{code}/callbacks")
def plan_create(code: str, request: Request, session: str = Form(...), precision: str = Form("0.1"),
                confidence: str = Form("0.95"), planning_rate: str = Form("0.1"), seed: str = Form(""),
                user: Principal = Depends(require_role("auditor"))):
    with request.app.state.db.session() as s:
        ep = get_visible(s, user, code)
        row = cb.create_plan(s, request.app.state.settings, user, ep, session.strip(), precision=_float(precision) or 0.1,
                             confidence=_float(confidence) or 0.95, planning_rate=_float(planning_rate) or 0.0,
                             seed=_int(seed))
        pid = row.id
    return _see_other(f"/callbacks/{pid}")


@router.post("/exam-points/{code}/callbacks/apply")
def plan_apply(code: str, request: Request, user: Principal = Depends(require_role("auditor"))):
    with request.app.state.db.session() as s:
        ep = get_visible(s, user, code)
        out = cb.apply_to_records(s, request.app.state.settings, user, ep)
    request.app.state.queue.enqueue(out["job"])
    return _see_other(f"/exam-points/{code}")


@router.get("/callbacks/{plan_id}")
def plan_page(plan_id: RowId, request: Request, user: Principal = Depends(current_user)):
    with request.app.state.db.session() as s:
        plan = cb.plan_view(cb.visible_plan(s, user, plan_id), user)
    from ...cases.callbook import OUTCOME_CHOICES, YESNO_CHOICES
    from ...cases.callplan import SCRIPT

    return render(request, "cases/plan.html.j2", {"plan": plan, "script": SCRIPT, "outcome_choices": OUTCOME_CHOICES,
                                                  "yesno": YESNO_CHOICES}, user, nav="cases")


@router.post("/callbacks/{plan_id}/calls/{call_id}/phone", response_class=HTMLResponse)
def plan_reveal(plan_id: RowId, call_id: RowId, request: Request, user: Principal = Depends(current_user)):
    """htmx: swaps the masked number for the full one; the reveal is logged."""
    with request.app.state.db.session() as s:
        phone = cb.reveal_phone(s, user, cb.visible_plan(s, user, plan_id), call_id, via="page")
    from html import escape

    return HTMLResponse(f'<span class="phone" data-testid="phone-full">{escape(phone)}</span>')


@router.post("/callbacks/{plan_id}/calls/{call_id}")
def plan_answer(plan_id: RowId, call_id: RowId, request: Request, called_at: str = Form(""), outcome: str = Form(""),
                sat_exam_in_person: str = Form(""), room_answer: str = Form(""), invigilator_answer: str = Form(""),
                paid_intermediary: str = Form(""), certificate_answer: str = Form(""), attended_training: str = Form(""),
                notes: str = Form(""), user: Principal = Depends(require_role("auditor"))):
    answers = {"called_at": called_at, "outcome": outcome, "sat_exam_in_person": sat_exam_in_person,
               "room_answer": room_answer, "invigilator_answer": invigilator_answer,
               "paid_intermediary": paid_intermediary, "certificate_answer": certificate_answer,
               "attended_training": attended_training, "notes": notes}
    with request.app.state.db.session() as s:
        cb.record_answers(s, user, cb.visible_plan(s, user, plan_id), call_id, answers)
    return _see_other(f"/callbacks/{plan_id}#call-{call_id}")


@router.post("/callbacks/{plan_id}/import")
def plan_import(plan_id: RowId, request: Request, file: UploadFile = File(...),
                user: Principal = Depends(require_role("auditor"))):
    from .api_cases import import_plan_answers

    import_plan_answers(plan_id, request, file, user)
    return _see_other(f"/callbacks/{plan_id}")
