"""Cases in the database: import/export, open from confirmed findings, rectification, 附表1, 典型案例.

Rows convert to and from :class:`examaudit.cases.model.Case`, so counting (附表1) and writing
(典型案例) are the library's, exactly as the CLI runs them. City scope: a user with a city sees
and counts only that city's cases; another city's case is a 404.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...cases.model import (OUTCOMES, Case, Document, Problem, outcome_text, parse_date, parse_methods,
                            parse_outcomes, parse_unit_type)
from ...cases.register import Register
from ...cases.tally import Form1Tally, ReportPeriod, tally
from ...findings import KIND_TITLES, Finding, Source
from ...report.mask import mask_text
from ..models import ExamPoint, Review, row_id, utcnow
from ..models_cases import CaseDocumentRow, CaseProblemRow, CaseRow
from ..security import Principal

#: how a finding's source becomes the inspection method the notice names
METHOD_OF_SOURCE = {Source.video: "调看监控视频", Source.callbacks: "学员电话回访", Source.records: "大数据比对",
                    Source.certificates: "大数据比对", Source.fusion: "大数据比对"}
DEFAULT_RECTIFY_DAYS = 30


# -- conversion ----------------------------------------------------------------------------------

def to_case(row: CaseRow) -> Case:
    problems = [Problem(p.description, [f for f in p.finding_ids.split(";") if f], p.due_on, p.done_on, p.rectified)
                for p in row.problems] if row.problems_known else None
    return Case(row.case_id, row.city, row.county, row.unit_type, row.unit_name, row.inspected_on,
                parse_methods(row.methods), frozenset(o for o in row.outcomes.split("；") if o), row.fine_wan,
                row.unlicensed_persons, row.referred_clues, problems, row.exam_point, row.summary,
                [Document(d.title, d.path, d.sha256) for d in row.documents], row.closed_on)


def _fill(row: CaseRow, c: Case) -> None:
    row.city, row.county, row.unit_type, row.unit_name = c.city, c.county, c.unit_type, c.unit_name
    row.exam_point, row.inspected_on, row.methods = c.exam_point, c.inspected_on, "；".join(c.methods)
    row.outcomes = "；".join(sorted(c.outcomes, key=OUTCOMES.index))
    row.fine_wan, row.unlicensed_persons, row.referred_clues = c.fine_wan, c.unlicensed_persons, c.referred_clues
    row.problems_known, row.summary, row.closed_on = c.problems is not None, c.summary, c.closed_on
    row.problems = [CaseProblemRow(seq=i, description=p.description, finding_ids=";".join(p.finding_ids), due_on=p.due_on,
                                   done_on=p.done_on, rectified=p.rectified) for i, p in enumerate(c.problems or [])]
    row.documents = [CaseDocumentRow(title=d.title, path=d.path, sha256=d.sha256) for d in c.documents]
    row.updated_at = utcnow()


def upsert_case(s: Session, c: Case, by: str) -> tuple[CaseRow, bool]:
    """Insert or replace the case with ``c.case_id``; returns (row, created)."""
    row = s.scalar(select(CaseRow).where(CaseRow.case_id == c.case_id))
    created = row is None
    if created:
        row = CaseRow(case_id=c.case_id, created_by=by)
        s.add(row)
    _fill(row, c)
    s.flush()
    return row, created


def import_register(s: Session, register: Register, by: str, city: str | None = None) -> tuple[int, int]:
    """Put an imported register into the database (by case id). ``city`` set: every case must be that city's."""
    if city is not None:
        other = sorted({c.city for c in register.cases if c.city != city})
        if other:
            raise HTTPException(403, f"register holds cases of {'、'.join(other)}; this account sees only {city}")
    added = updated = 0
    for c in register.cases:
        # a register without a column says nothing about it: keep what the database knows
        old = s.scalar(select(CaseRow).where(CaseRow.case_id == c.case_id))
        if old is not None:
            prev = to_case(old)
            c = replace(c,
                        fine_wan=c.fine_wan if "fine_wan" in register.columns else prev.fine_wan,
                        unlicensed_persons=c.unlicensed_persons if "unlicensed_persons" in register.columns else prev.unlicensed_persons,
                        referred_clues=c.referred_clues if "referred_clues" in register.columns else prev.referred_clues,
                        problems=c.problems if c.problems is not None else prev.problems)
        _, created = upsert_case(s, c, by)
        added += created
        updated += not created
    return added, updated


def all_cases(s: Session, city: str | None = None) -> list[Case]:
    q = select(CaseRow).order_by(CaseRow.inspected_on, CaseRow.id)
    if city is not None:
        q = q.where(CaseRow.city == city)
    return [to_case(r) for r in s.scalars(q)]


def cases_from_data_dir(data_dir: str | Path) -> list[Case]:
    """Every case in a server data folder (the CLI's ``--data``); migrates the schema first."""
    from ..db import Database, migrate
    from ..settings import Settings

    settings = Settings.from_env(data_dir)
    migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        with db.session() as s:
            return all_cases(s)
    finally:
        db.engine.dispose()


# -- reading with the access rule ----------------------------------------------------------------

def visible_cases(s: Session, user: Principal, *, exam_point: str | None = None) -> list[CaseRow]:
    q = select(CaseRow).order_by(CaseRow.inspected_on.desc(), CaseRow.id.desc())
    if user.city is not None:
        q = q.where(CaseRow.city == user.city)
    if exam_point:
        q = q.where(CaseRow.exam_point == exam_point)
    return list(s.scalars(q))


def get_visible_case(s: Session, user: Principal, key: str | int) -> CaseRow:
    row = s.get(CaseRow, rid) if (rid := row_id(key)) is not None else None
    if row is None:
        row = s.scalar(select(CaseRow).where(CaseRow.case_id == str(key)))
    if row is None or not user.can_see_city(row.city):
        raise HTTPException(404, "case not found")
    return row


def case_view(row: CaseRow, today: date | None = None) -> dict:
    """A case as the API and pages show it; overdue problems are marked."""
    today = today or date.today()
    c = to_case(row)
    probs = []
    for p_row, p in zip(row.problems, c.problems or []):
        probs.append({"id": p_row.id, "description": p.description, "finding_ids": p.finding_ids,
                      "due_on": p.due_on.isoformat() if p.due_on else None,
                      "done_on": p.done_on.isoformat() if p.done_on else None, "rectified": p.rectified,
                      "overdue": p.overdue(today)})
    return {
        "id": row.id, "case_id": c.case_id, "city": c.city, "county": c.county, "unit_type": c.unit_type,
        "unit_name": c.unit_name, "exam_point": c.exam_point, "inspected_on": c.inspected_on.isoformat(),
        "methods": list(c.methods), "outcomes": sorted(c.outcomes, key=OUTCOMES.index), "outcome_text": outcome_text(c.outcomes),
        "fine_wan": c.fine_wan, "unlicensed_persons": c.unlicensed_persons, "referred_clues": c.referred_clues,
        "problems_known": c.problems is not None, "problems": probs, "summary": c.summary,
        "documents": [{"title": d.title, "path": d.path, "sha256": d.sha256} for d in c.documents],
        "closed_on": c.closed_on.isoformat() if c.closed_on else None, "finding_ids": c.finding_ids,
        "overdue": sum(p["overdue"] for p in probs), "open_problems": sum(p["rectified"] is False for p in probs),
        "created_by": row.created_by,
    }


# -- opening a case from findings ----------------------------------------------------------------

def _confirmed(s: Session, ep: ExamPoint) -> set[str]:
    return set(s.scalars(select(Review.finding_id).where(Review.exam_point_id == ep.id, Review.decision == "confirmed")))


def confirmed_findings(s: Session, settings, ep: ExamPoint) -> list[Finding]:
    from .reviews import findings_of

    ok = _confirmed(s, ep)
    return [f for f in findings_of(settings, ep.code) if f.id in ok]


def _new_case_id(s: Session, ep: ExamPoint, when: date) -> str:
    stem = f"{ep.code}-{when:%Y%m%d}"
    n = s.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.case_id.like(f"{stem}-%"))) or 0
    while s.scalar(select(CaseRow.id).where(CaseRow.case_id == f"{stem}-{n + 1}")) is not None:
        n += 1
    return f"{stem}-{n + 1}"


def open_from_findings(s: Session, settings, user: Principal, ep: ExamPoint, finding_ids: list[str], *,
                       inspected_on: date | None = None, due_on: date | None = None, unit_type: str = "考试机构",
                       unit_name: str | None = None, county: str = "", summary: str = "") -> CaseRow:
    """Open a case on ``ep`` with one problem per confirmed finding, linked to it.

    Raises:
        HTTPException: 422 when no finding is given, or one is not this exam point's or not confirmed.
    """
    from .reviews import findings_of

    ids = list(dict.fromkeys(f for f in finding_ids if f))
    if not ids:
        raise HTTPException(422, "choose at least one confirmed finding")
    by_id = {f.id: f for f in findings_of(settings, ep.code)}
    ok = _confirmed(s, ep)
    bad = [f for f in ids if f not in by_id]
    if bad:
        raise HTTPException(422, f"not findings of {ep.code}: {', '.join(bad)}")
    unconfirmed = [f for f in ids if f not in ok]
    if unconfirmed:
        raise HTTPException(422, f"only confirmed findings open a case; not confirmed: {', '.join(unconfirmed)}")
    when = inspected_on or date.today()
    due = due_on or when + timedelta(days=DEFAULT_RECTIFY_DAYS)
    found = [by_id[f] for f in ids]
    try:
        utype = parse_unit_type(unit_type)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    methods = tuple(dict.fromkeys(METHOD_OF_SOURCE.get(f.source, "大数据比对") for f in found))
    problems = [Problem(f"{KIND_TITLES[f.kind][0]}：{mask_text(f.reason_zh)}", [f.id], due_on=due) for f in found]
    case = Case(_new_case_id(s, ep, when), ep.city or "", county, utype, unit_name or ep.name or ep.code, when, methods,
                frozenset(), None, None, None, problems, ep.code, summary)
    row, _ = upsert_case(s, case, user.name)
    return row


# -- changes -------------------------------------------------------------------------------------

def _opt_date(v: str | date | None) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, date):
        return v
    try:
        return parse_date(v)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def set_outcome(s: Session, row: CaseRow, outcomes: list[str] | str, fine_wan: float | None = None,
                referred_clues: int | None = None, unlicensed_persons: int | None = None) -> CaseRow:
    try:
        out = parse_outcomes("；".join(outcomes) if isinstance(outcomes, list) else outcomes)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if fine_wan is not None and fine_wan < 0 or referred_clues is not None and referred_clues < 0 \
            or unlicensed_persons is not None and unlicensed_persons < 0:
        raise HTTPException(422, "amounts and counts cannot be negative")
    c = replace(to_case(row), outcomes=out, fine_wan=fine_wan, referred_clues=referred_clues,
                unlicensed_persons=unlicensed_persons)
    _fill(row, c)
    s.flush()
    return row


def set_rectification(s: Session, row: CaseRow, problem_id: int, done_on: str | date | None,
                      due_on: str | date | None = None) -> CaseRow:
    """Mark one problem rectified on ``done_on`` (empty: not yet), and/or move its due date."""
    p = next((p for p in row.problems if p.id == problem_id), None)
    if p is None:
        raise HTTPException(404, "problem not found")
    done = _opt_date(done_on)
    if done is not None and done < row.inspected_on:
        raise HTTPException(422, f"rectified on {done}, before the inspection on {row.inspected_on}")
    p.done_on, p.rectified = done, done is not None
    if due_on not in (None, ""):
        p.due_on = _opt_date(due_on)
    row.updated_at = utcnow()
    s.flush()
    return row


def close_case(s: Session, row: CaseRow, closed_on: str | date | None = None) -> CaseRow:
    if not row.outcomes:
        raise HTTPException(422, "record the outcome before closing the case")
    row.closed_on = _opt_date(closed_on) or date.today()
    row.updated_at = utcnow()
    s.flush()
    return row


# -- outputs -------------------------------------------------------------------------------------

def form1_for(s: Session, user: Principal, period: ReportPeriod, city: str | None = None) -> Form1Tally:
    """附表1 from the register: the user's city, or (province users) one city or every city."""
    if user.city is not None:
        if city not in (None, "", user.city):
            raise HTTPException(404, "city not visible")
        city = user.city
    cases = all_cases(s, city or None)
    cities = [city] if city else None
    return tally(cases, period, cities=cities)


def typical_for(s: Session, settings, row: CaseRow, detector=None):
    """The case's 典型案例 from its confirmed findings and their evidence frames (people blurred)."""
    from ...cases.typical import typical_case
    from .exam_points import audit_dir

    c = to_case(row)
    findings: list[Finding] = []
    names: list[str] = []
    root = None
    ep = s.scalar(select(ExamPoint).where(ExamPoint.code == c.exam_point)) if c.exam_point else None
    if ep is not None:
        wanted = set(c.finding_ids)
        findings = [f for f in confirmed_findings(s, settings, ep) if f.id in wanted]
        root = audit_dir(settings, ep.code)
        names = [ep.name] if ep.name else []
        try:
            from .exam_points import config_of
            from .seat_maps import roster

            names += [r["name"] for r in roster(config_of(settings, ep)) if r.get("name")]
        except Exception:  # noqa: BLE001 - no roster: candidate ids are scrubbed by pattern anyway
            pass
    try:
        return typical_case(c, findings, frames_root=root, names=names, detector=detector)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
