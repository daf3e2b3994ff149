"""The call list as a workbook for the call team, and its answers back as a callbacks file.

``write_call_list`` writes three sheets: 回访名单 (one row per call, blank answer columns with
drop-down lists), 回访话术 (the fixed script) and 抽样说明 (why each candidate is on the list,
the control sample's size and its formula). ``read_call_outcomes`` reads the answered sheet
back; rows without a 回访结果 were not called yet and are skipped. ``write_callbacks`` writes
the answers in the callbacks format ``examaudit records --callbacks`` reads (docs/records.md),
optionally after an existing callbacks file's rows, so the exam point's callback screens and
risk are recomputed with them.

Phone numbers are written in full for the call team unless ``mask_phones`` (a list that
leaves the team). Every cell goes through :func:`examaudit.cases.sheet.cell`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import InputError
from ..records import columns as RC
from ..report.mask import mask_phone
from .callplan import CLOSING, OPENING, SCRIPT, CallPlan
from .model import fold
from .sheet import append, cell, put

LIST_SHEET, SCRIPT_SHEET, NOTE_SHEET = "回访名单", "回访话术", "抽样说明"
#: (key, header) of the call list; answer columns follow the script's keys
LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("priority", "优先级"), ("candidate_id", "准考证号"), ("name", "姓名"), ("phone", "手机号"),
    ("exam_point", "考点"), ("session", "场次"), ("room", "考场"), ("seat", "座位号"),
    ("reasons", "列入原因"), ("finding_ids", "依据发现编号"),
    ("called_at", "回访时间"), ("outcome", "回访结果"),
    ("sat_exam_in_person", "是否本人参考"), ("room_answer", "所答考场座位"), ("invigilator_answer", "所答监考人员"),
    ("paid_intermediary", "是否另付费用"), ("certificate_answer", "证书取得方式"), ("attended_training", "是否参加培训"),
    ("notes", "备注"),
)
OUTCOME_CHOICES = ("接通", "无法接通", "空号", "拒访")
YESNO_CHOICES = ("是", "否", "不清楚")
#: callbacks-file header, as the sample and docs/records.md spell it
CALLBACK_HEADER = ("准考证号", "回访时间", "回访结果", "是否参加培训", "是否本人参考", "是否通过中介缴费", "备注")


def write_call_list(plan: CallPlan, path: str | Path, *, mask_phones: bool = False) -> Path:
    """Write the call list workbook (via a temporary file)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = LIST_SHEET
    append(ws, [h for _, h in LIST_COLUMNS])
    for c in ws[1]:
        c.font = Font(bold=True)
    flagged_fill = PatternFill("solid", fgColor="FCE4D6")
    for t in plan.targets:
        values = {"priority": t.priority, "candidate_id": t.candidate_id, "name": t.name,
                  "phone": mask_phone(t.phone) if mask_phones and t.phone else t.phone, "exam_point": t.exam_point,
                  "session": t.session, "room": t.room, "seat": t.seat, "reasons": "；".join(t.reasons),
                  "finding_ids": ";".join(t.finding_ids)}
        r = append(ws, [values.get(k) for k, _ in LIST_COLUMNS])
        if not t.control:
            for j in range(1, 10):
                ws.cell(r, j).fill = flagged_fill
    last = ws.max_row
    col = {k: get_column_letter(j) for j, (k, _) in enumerate(LIST_COLUMNS, start=1)}
    if last >= 2:
        dv = DataValidation(type="list", formula1='"' + ",".join(OUTCOME_CHOICES) + '"', allow_blank=True)
        dv.add(f"{col['outcome']}2:{col['outcome']}{last}")
        yn = DataValidation(type="list", formula1='"' + ",".join(YESNO_CHOICES) + '"', allow_blank=True)
        for k in ("sat_exam_in_person", "paid_intermediary", "attended_training"):
            yn.add(f"{col[k]}2:{col[k]}{last}")
        ws.add_data_validation(dv)
        ws.add_data_validation(yn)
    for j, (k, h) in enumerate(LIST_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = {"reasons": 30, "finding_ids": 24, "notes": 30}.get(k, 14)
    ws.freeze_panes = "C2"

    sc = wb.create_sheet(SCRIPT_SHEET)
    put(sc, 1, 1, "开场白")
    put(sc, 1, 2, OPENING)
    for i, (key, q) in enumerate(SCRIPT, start=1):
        put(sc, 1 + i, 1, f"问题{i}（{dict(LIST_COLUMNS)[key]}）")
        put(sc, 1 + i, 2, q)
    put(sc, 2 + len(SCRIPT), 1, "结束语")
    put(sc, 2 + len(SCRIPT), 2, CLOSING)
    sc.column_dimensions["A"].width, sc.column_dimensions["B"].width = 22, 90

    nt = wb.create_sheet(NOTE_SHEET)
    lines = [f"考点 {plan.exam_point}，场次 {plan.session}：本场考生 {plan.session_size} 人，"
             f"被记录或视频标记 {plan.flagged} 人（全部列入），对照抽样 {len(plan.controls)} 人。",
             plan.sample.explain(),
             f"对照样本由随机数种子 {plan.seed} 抽取，同样的输入得到同样的名单。",
             "回访结果填：接通 / 无法接通 / 空号 / 拒访；是否本人参考、是否另付费用、是否参加培训填：是 / 否 / 不清楚。",
             "未回访的行保持“回访结果”为空，导入时跳过。"]
    for i, line in enumerate(lines, start=1):
        put(nt, i, 1, line)
    nt.column_dimensions["A"].width = 120
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    wb.save(tmp)
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class CallOutcome:
    """One answered call, in the callbacks file's terms (``yes``/``no``/``unknown``/``""``)."""

    candidate_id: str
    called_at: str
    outcome: str  # reached / unreachable / wrong_number / refused
    attended_training: str
    sat_exam_in_person: str
    paid_intermediary: str
    notes: str
    row: int = 0


def _yesno(text: str, where: str) -> str:
    s = str(text).strip().lower()
    if not s:
        return ""
    if s in RC.YES:
        return "yes"
    if s in RC.NO:
        return "no"
    if s in RC.UNKNOWN:
        return "unknown"
    raise ValueError(f"{where}: {text!r} is not 是 / 否 / 不清楚")


def parse_outcome(text: str) -> str:
    o = RC.OUTCOME_OF.get(str(text).strip().lower())
    if o is None:
        raise ValueError(f"{text!r} is not 接通 / 无法接通 / 空号 / 拒访")
    return o


def parse_called_at(text: str) -> str:
    from ..records.load import _parse_datetime  # the records reader's own rule, so both agree

    d = _parse_datetime(str(text).strip())
    if d is None:
        raise ValueError(f"{text!r} is not a time like 2024-06-25 10:30")
    return str(d).replace("T", " ")


def outcome_from_answers(candidate_id: str, answers: dict[str, str], row: int = 0) -> CallOutcome:
    """One call's answers (keys of :data:`LIST_COLUMNS`) as a callbacks row; raises ValueError."""
    outcome = parse_outcome(answers.get("outcome", ""))
    called = parse_called_at(answers.get("called_at", "")) if str(answers.get("called_at", "")).strip() else ""
    if not called:
        raise ValueError("回访时间 is empty")
    reached = outcome == "reached"
    vals = {k: _yesno(answers.get(k, ""), dict(LIST_COLUMNS)[k]) if reached else ""
            for k in ("sat_exam_in_person", "paid_intermediary", "attended_training")}
    notes = [f"{dict(LIST_COLUMNS)[k]}：{str(answers.get(k, '')).strip()}"
             for k in ("room_answer", "invigilator_answer", "certificate_answer") if str(answers.get(k, "")).strip()]
    if str(answers.get("notes", "")).strip():
        notes.append(str(answers["notes"]).strip())
    return CallOutcome(candidate_id, called, outcome, vals["attended_training"], vals["sat_exam_in_person"],
                       vals["paid_intermediary"], "；".join(notes), row)


def read_call_outcomes(path: str | Path) -> list[CallOutcome]:
    """The answered calls of a call-list workbook; unanswered rows (no 回访结果) are skipped.

    Raises:
        InputError: not a call list, or bad answers (sheet, row and column, up to five).
    """
    from openpyxl import load_workbook

    from ..records.read import _cell_text

    path = Path(path)
    if not path.is_file():
        raise InputError("call list not found", path=path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        raise InputError(f"cannot open as an Excel workbook: {exc}", path=path) from exc
    try:
        ws = wb[LIST_SHEET] if LIST_SHEET in wb.sheetnames else wb.worksheets[0]
        rows = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        raise InputError(f"sheet {LIST_SHEET} is empty", path=path)
    by_header = {fold(h): k for k, h in LIST_COLUMNS} | {fold(k): k for k, _ in LIST_COLUMNS}
    header = [by_header.get(fold(h)) for h in rows[0]]
    for need in ("candidate_id", "called_at", "outcome"):
        if need not in header:
            raise InputError(f"sheet {LIST_SHEET}: missing column {dict(LIST_COLUMNS)[need]}", path=path)
    out: list[CallOutcome] = []
    errors: list[str] = []
    for n, raw in enumerate(rows[1:], start=2):
        cells = {k: (raw[i].strip() if i < len(raw) else "") for i, k in enumerate(header) if k}
        if not cells.get("outcome"):
            continue
        if not cells.get("candidate_id"):
            errors.append(f"{LIST_SHEET} row {n}: 准考证号 is empty")
            continue
        try:
            out.append(outcome_from_answers(cells["candidate_id"], cells, n))
        except ValueError as exc:
            errors.append(f"{LIST_SHEET} row {n}: {exc}")
    if errors:
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InputError("; ".join(errors[:5]) + more, path=path)
    return out


def _existing_rows(path: Path) -> list[list[str]]:
    """An existing callbacks file's rows in :data:`CALLBACK_HEADER` order (header matched as the records reader does)."""
    from ..records.read import iter_chunks

    header, chunks, _layout = iter_chunks(path, spec=RC.CALLBACKS)
    found, _unknown = RC.header_map(RC.CALLBACKS, header)
    missing = [c.zh for c in RC.CALLBACKS.required if c.name not in found]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path)
    names = ("candidate_id", "called_at", "outcome", "attended_training", "sat_exam_in_person", "paid_intermediary", "notes")
    rows: list[list[str]] = []
    for ch in chunks:
        cols = [ch.columns[found[k]] if k in found else [""] * len(ch.numbers) for k in names]
        rows += [list(r) for r in zip(*cols)]
    return rows


def write_callbacks(outcomes: list[CallOutcome], path: str | Path, *, existing: str | Path | None = None) -> tuple[Path, int, int]:
    """Write a callbacks file (CSV, UTF-8 with BOM): ``existing``'s rows, then the new calls
    that are not already in it (same candidate and time). Returns (path, kept, added)."""
    path = Path(path)
    old = _existing_rows(Path(existing)) if existing is not None else []
    seen = {(r[0], r[1]) for r in old}
    new = []
    for o in outcomes:
        key = (o.candidate_id, o.called_at)
        if key in seen:
            continue
        seen.add(key)
        new.append([o.candidate_id, o.called_at, o.outcome, o.attended_training, o.sat_exam_in_person,
                    o.paid_intermediary, o.notes])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(CALLBACK_HEADER)
        for r in old + new:
            w.writerow([cell(v) for v in r])
    tmp.replace(path)
    return path, len(old), len(new)


def now_text() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")
