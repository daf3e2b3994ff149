"""Call lists in the database: plan, show (phones masked by role, reveals logged), answers,
and the answers fed back into the exam point's records screening.

Phones: viewers and reviewers only ever see masked numbers. Auditors and admins see masked
numbers too until they reveal one (a call about to be made); each reveal, and each number put
in full into an exported call list, is a :class:`PhoneRevealRow`.

Feeding back: :func:`apply_to_records` writes the exam point's callbacks file (its own
callbacks rows, then every answered call) as a new stored original, links it into a new input
folder of the exam point, and queues an audit. The audit reuses every finished recording and
reruns the records screening, so the exam point's callback findings and risk are recomputed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...cases.callbook import CallOutcome, outcome_from_answers, read_call_outcomes, write_call_list, write_callbacks
from ...cases.callplan import CallPlan, CallTarget, SampleSize, plan_calls
from ...errors import InputError
from ...outputs import sha256_file
from ...report.mask import mask_name, mask_phone
from ..models import ExamPoint, Review, Upload, utcnow
from ..models_cases import CallPlanRow, CallRow, PhoneRevealRow
from ..security import Principal


def _roster_path(settings, ep: ExamPoint) -> Path:
    from ...audit import records_inputs
    from .exam_points import config_of

    path = records_inputs(config_of(settings, ep)).get("roster")
    if path is None or not path.is_file():
        raise HTTPException(422, f"exam point {ep.code} has no roster yet: upload records/roster.csv first")
    return path


def create_plan(s: Session, settings, user: Principal, ep: ExamPoint, session: str, *, precision: float = 0.10,
                confidence: float = 0.95, planning_rate: float = 0.10, seed: int | None = None) -> CallPlanRow:
    """Plan calls from the exam point's roster and its findings (dismissed ones left out)."""
    from ...records.load import load_roster
    from .reviews import findings_of

    try:
        roster, _ = load_roster(_roster_path(settings, ep))
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    dismissed = set(s.scalars(select(Review.finding_id).where(Review.exam_point_id == ep.id,
                                                              Review.decision == "dismissed")))
    findings = [f for f in findings_of(settings, ep.code) if f.id not in dismissed]
    seed = int.from_bytes(os.urandom(3), "big") if seed is None else seed
    try:
        plan = plan_calls(roster, findings, ep.code, session, precision=precision, confidence=confidence,
                          planning_rate=planning_rate, seed=seed)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    sz = plan.sample
    row = CallPlanRow(exam_point=ep.code, city=ep.city, session=session, created_by=user.name, parameters={
        "precision": precision, "confidence": confidence, "planning_rate": planning_rate, "seed": seed, "n": sz.n,
        "n0": sz.n0, "population": sz.population, "z": sz.z, "flagged": plan.flagged,
        "session_size": plan.session_size, "explain": sz.explain()})
    row.calls = [CallRow(priority=t.priority, candidate_id=t.candidate_id, name=t.name, phone=t.phone, room=t.room,
                         seat=t.seat, reasons="；".join(t.reasons), finding_ids=";".join(t.finding_ids), control=t.control)
                 for t in plan.targets]
    s.add(row)
    s.flush()
    return row


def visible_plan(s: Session, user: Principal, plan_id: int) -> CallPlanRow:
    row = s.get(CallPlanRow, plan_id)
    if row is None or not user.can_see_city(row.city):
        raise HTTPException(404, "call list not found")
    return row


def plans_of(s: Session, user: Principal, exam_point: str | None = None) -> list[CallPlanRow]:
    q = select(CallPlanRow).order_by(CallPlanRow.id.desc())
    if user.city is not None:
        q = q.where(CallPlanRow.city == user.city)
    if exam_point:
        q = q.where(CallPlanRow.exam_point == exam_point)
    return list(s.scalars(q))


def call_view(c: CallRow, user: Principal) -> dict:
    """A call with the phone masked (reveal separately) and, below auditor, the name masked too."""
    return {"id": c.id, "priority": c.priority, "candidate_id": c.candidate_id,
            "name": c.name if user.sees_personal_data else mask_name(c.name), "phone": mask_phone(c.phone) if c.phone else "",
            "room": c.room, "seat": c.seat, "reasons": c.reasons, "finding_ids": [f for f in c.finding_ids.split(";") if f],
            "control": c.control, "called_at": c.called_at, "outcome": c.outcome, "sat_exam_in_person": c.sat_exam_in_person,
            "paid_intermediary": c.paid_intermediary, "attended_training": c.attended_training, "notes": c.notes,
            "entered_by": c.entered_by}


def plan_view(row: CallPlanRow, user: Principal) -> dict:
    return {"id": row.id, "exam_point": row.exam_point, "city": row.city, "session": row.session,
            "parameters": row.parameters, "created_by": row.created_by, "created_at": row.created_at.isoformat(),
            "applied_at": row.applied_at.isoformat() if row.applied_at else None,
            "calls": [call_view(c, user) for c in row.calls],
            "answered": sum(bool(c.outcome) for c in row.calls)}


def _log_reveal(s: Session, user: Principal, c: CallRow, via: str) -> None:
    s.add(PhoneRevealRow(user_name=user.name, call_id=c.id, candidate_id=c.candidate_id, exam_point=c.plan.exam_point,
                         via=via, at=utcnow()))


def reveal_phone(s: Session, user: Principal, plan: CallPlanRow, call_id: int, via: str = "api") -> str:
    """The full number, for auditors and admins only; the reveal is logged."""
    if not user.sees_personal_data:
        raise HTTPException(403, "this role may not see phone numbers")
    c = next((c for c in plan.calls if c.id == call_id), None)
    if c is None:
        raise HTTPException(404, "call not found")
    _log_reveal(s, user, c, via)
    s.flush()
    return c.phone


def reveals(s: Session, exam_point: str | None = None) -> list[dict]:
    q = select(PhoneRevealRow).order_by(PhoneRevealRow.id)
    if exam_point:
        q = q.where(PhoneRevealRow.exam_point == exam_point)
    return [{"user": r.user_name, "candidate_id": r.candidate_id, "exam_point": r.exam_point, "via": r.via,
             "at": r.at.isoformat()} for r in s.scalars(q)]


def _as_plan(row: CallPlanRow) -> CallPlan:
    p = row.parameters
    size = SampleSize(p["n"], p["n0"], p["population"], p["precision"], p["confidence"], p["planning_rate"], p["z"])
    targets = [CallTarget(c.priority, c.candidate_id, c.name, c.phone, row.exam_point, row.session, c.room, c.seat,
                          [r for r in c.reasons.split("；") if r], [f for f in c.finding_ids.split(";") if f], c.control)
               for c in row.calls]
    return CallPlan(row.exam_point, row.session, targets, size, p["seed"], p["flagged"], p["session_size"])


def export_xlsx(s: Session, user: Principal, row: CallPlanRow, path: Path) -> Path:
    """The call list workbook: full numbers for auditors (each logged as a reveal), masked for others."""
    full = user.sees_personal_data
    write_call_list(_as_plan(row), path, mask_phones=not full)
    if full:
        for c in row.calls:
            if c.phone:
                _log_reveal(s, user, c, "export")
        s.flush()
    return path


def _store(c: CallRow, o: CallOutcome, user: Principal) -> None:
    c.called_at, c.outcome = o.called_at, o.outcome
    c.sat_exam_in_person, c.paid_intermediary, c.attended_training = o.sat_exam_in_person, o.paid_intermediary, o.attended_training
    c.notes, c.entered_by, c.entered_at = o.notes, user.name, utcnow()


def record_answers(s: Session, user: Principal, plan: CallPlanRow, call_id: int, answers: dict[str, str]) -> CallRow:
    c = next((c for c in plan.calls if c.id == call_id), None)
    if c is None:
        raise HTTPException(404, "call not found")
    try:
        o = outcome_from_answers(c.candidate_id, answers)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    _store(c, o, user)
    s.flush()
    return c


def import_answers(s: Session, user: Principal, plan: CallPlanRow, xlsx: Path) -> int:
    """Answers from the call team's workbook; a candidate not on this list is refused (422)."""
    try:
        outcomes = read_call_outcomes(xlsx)
    except InputError as exc:
        raise HTTPException(422, str(exc).replace(str(xlsx), "upload")) from None
    by_cand = {c.candidate_id: c for c in plan.calls}
    strangers = [o.candidate_id for o in outcomes if o.candidate_id not in by_cand]
    if strangers:
        raise HTTPException(422, f"not on this call list: {', '.join(strangers[:5])}")
    for o in outcomes:
        _store(by_cand[o.candidate_id], o, user)
    s.flush()
    return len(outcomes)


def answered_outcomes(s: Session, exam_point: str) -> list[CallOutcome]:
    rows = s.scalars(select(CallRow).join(CallPlanRow).where(CallPlanRow.exam_point == exam_point, CallRow.outcome != "")
                     .order_by(CallRow.id))
    return [CallOutcome(c.candidate_id, c.called_at, c.outcome, c.attended_training, c.sat_exam_in_person,
                        c.paid_intermediary, c.notes) for c in rows]


def apply_to_records(s: Session, settings, user: Principal, ep: ExamPoint) -> dict:
    """Make the answered calls the exam point's callbacks input and queue its audit.

    Returns ``{"job": id, "calls": n, "kept": rows of the earlier callbacks file}``.
    """
    from ...audit import records_inputs
    from .exam_points import config_of
    from .jobs import create_job
    from .storage import check_relative_name, store_original

    outcomes = answered_outcomes(s, ep.code)
    if not outcomes:
        raise HTTPException(422, "no answered calls to apply")
    cfg = config_of(settings, ep)
    existing = records_inputs(cfg).get("callbacks")
    declared = cfg.records.callbacks
    rel = declared if declared and not Path(declared).is_absolute() else "records/callbacks.csv"
    try:
        rel = check_relative_name(rel, "callbacks path")
    except InputError as exc:
        raise HTTPException(422, str(exc)) from None
    fd, tmp_name = tempfile.mkstemp(dir=settings.uploads_dir, suffix=".csv")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _, kept, added = write_callbacks(outcomes, tmp, existing=existing)
    except InputError as exc:
        tmp.unlink(missing_ok=True)
        raise HTTPException(422, str(exc)) from None
    sha = sha256_file(tmp)
    size = tmp.stat().st_size
    original = store_original(settings.originals_dir, tmp, sha)
    config_path = _mirror_inputs(settings, ep, original, rel)
    s.add(Upload(exam_point_id=ep.id, role="callbacks", filename=Path(rel).name, rel_path=rel, sha256=sha, size=size,
                 uploaded_by=user.name, created_at=utcnow()))
    ep.config_path = str(config_path.relative_to(settings.data_dir))
    s.flush()
    job = create_job(s, ep, user)
    for plan in s.scalars(select(CallPlanRow).where(CallPlanRow.exam_point == ep.code)):
        plan.applied_at = utcnow()
    s.flush()
    return {"job": job.id, "calls": added, "kept": kept, "callbacks_sha256": sha}


def _mirror_inputs(settings, ep: ExamPoint, callbacks_original: Path, rel: str) -> Path:
    """A new input folder of ``ep``: every file of the current one hard-linked at the same place
    (the stored originals stay read-only and are not copied), and the callbacks file at ``rel``
    beside the YAML. Returns the new YAML's path."""
    from .exam_points import _new_input_dir, exam_point_dir
    from .storage import link_original

    config = (settings.data_dir / ep.config_path).resolve()
    inputs = (exam_point_dir(settings, ep.code) / "inputs").resolve()
    if not config.is_relative_to(inputs):
        raise HTTPException(422, f"exam point {ep.code}: its inputs are not in the data folder")
    old_root = inputs / config.relative_to(inputs).parts[0]
    new_root = _new_input_dir(settings, ep.code)
    for f in sorted(old_root.rglob("*")):
        if f.is_file():
            link_original(f, new_root / f.relative_to(old_root))
    new_config = new_root / config.relative_to(old_root)
    link_original(callbacks_original, new_config.parent / rel)
    return new_config
