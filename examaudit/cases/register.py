"""Read and write the case register as CSV or xlsx, so a bureau can bring its own Excel sheet.

One row per case (sheet 案件, or the CSV). Problems in detail, with the findings that support
them and their rectification dates, are optional: a second sheet 问题 in the workbook, or a
CSV beside the cases file named ``<stem>.problems.csv``. A register without them may give
counts instead (发现问题数, 完成整改问题数); a register with neither leaves the problems unknown.

Headers are matched after folding case, spaces and brackets, in Chinese or English (see
:data:`CASE_COLUMNS`). Bad rows stop the import with one line naming the file, the row as a
spreadsheet shows it (header = row 1) and the column, for up to five rows; nothing is half
imported.

Example:
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "r.csv").write_text("地市,单位类型,单位名称,检查日期,处理结果,发现问题数,完成整改问题数\\n"
    ...     "杭州市,考点,杭州甲考点,2024-06-05,限期整改,2,1\\n", encoding="utf-8")
    >>> reg = read_register(d / "r.csv")
    >>> c = reg.cases[0]
    >>> c.unit_type, c.problem_count(), c.rectified_count(), sorted(reg.columns)[:3]
    ('考试机构', 2, 1, ['city', 'inspected_on', 'outcome'])
    >>> write_register(reg.cases, d / "out.xlsx").name
    'out.xlsx'
    >>> read_register(d / "out.xlsx").cases[0].problems == c.problems
    True
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError
from .model import (Case, Document, Problem, fold, outcome_text, parse_date, parse_methods, parse_outcomes,
                    parse_unit_type)
from .sheet import append, cell

#: canonical name -> (header written on export, other accepted headers)
CASE_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "case_id": ("案件编号", ("case_id", "编号", "案号", "id")),
    "city": ("地市", ("city", "城市", "市", "设区市", "所属地市")),
    "county": ("区县", ("county", "县市区", "县（市、区）", "区", "县", "district")),
    "unit_type": ("单位类型", ("unit_type", "类型", "检查对象类型", "type")),
    "unit_name": ("单位名称", ("unit_name", "被检查单位", "名称", "unit", "name")),
    "exam_point": ("考点编号", ("exam_point", "考点代码")),
    "inspected_on": ("检查日期", ("inspected_on", "date", "日期", "检查时间", "inspection_date")),
    "methods": ("检查方式", ("methods", "method", "检查方法", "方式")),
    "outcome": ("处理结果", ("outcome", "处理情况", "处理措施", "result")),
    "fine_wan": ("罚款金额(万元)", ("fine_wan", "罚款金额", "罚款万元", "罚款", "fine")),
    "unlicensed_persons": ("查出无证假证人员数(人)", ("unlicensed_persons", "查出无证、假证人员数量", "无证假证人数",
                                                "无证假证人员", "fake_certificates")),
    "referred_clues": ("移交涉嫌犯罪线索数(项)", ("referred_clues", "涉嫌犯罪的问题线索移交数量", "移送公安机关",
                                              "移交线索", "移送公安", "referred_police", "police")),
    "problems_found": ("发现问题数(项)", ("problems_found", "查出问题总数", "发现问题", "问题数", "problems")),
    "problems_rectified": ("完成整改问题数(项)", ("problems_rectified", "整改问题数", "已整改问题数", "完成整改", "rectified")),
    "summary": ("案情摘要", ("summary", "主要问题", "问题描述", "案情", "description")),
    "documents": ("文书", ("documents", "相关文书", "附件")),
    "closed_on": ("结案日期", ("closed_on", "办结日期", "closed")),
}
PROBLEM_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "case_id": ("案件编号", ("case_id", "编号", "案号")),
    "description": ("问题描述", ("description", "问题", "problem")),
    "finding_ids": ("依据发现编号", ("finding_ids", "findings", "发现编号", "依据")),
    "due_on": ("整改期限", ("due_on", "due", "整改时限", "限期")),
    "done_on": ("完成整改日期", ("done_on", "done", "整改完成日期", "完成日期")),
    "rectified": ("是否已整改", ("rectified", "已整改", "整改情况")),
}
REQUIRED = ("city", "unit_type", "unit_name", "inspected_on")
CASES_SHEET, PROBLEMS_SHEET = "案件", "问题"
_YES = {"是", "已整改", "yes", "y", "1", "true", "完成", "已完成"}
_NO = {"否", "未整改", "no", "n", "0", "false", "未完成", "整改中"}


@dataclass
class Register:
    """An imported register: its cases and which columns it had (absent column = unknown)."""

    path: Path
    columns: set[str]
    cases: list[Case]

    @property
    def cities(self) -> list[str]:
        return list(dict.fromkeys(c.city for c in self.cases))


def header_key(text: str) -> str:
    """Fold a header: bracketed notes such as （万元） or (必填) do not matter."""
    return fold(re.sub(r"[（(【\[].*?[)）】\]]", "", str(text)))


def _index(spec: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (zh, aliases) in spec.items():
        for a in (name, zh, *aliases):
            out.setdefault(header_key(a), name)
    return out


_CASE_INDEX, _PROBLEM_INDEX = _index(CASE_COLUMNS), _index(PROBLEM_COLUMNS)


# -- reading -------------------------------------------------------------------------------------

def _rows_csv(path: Path) -> list[list[str]]:
    from ..records.read import detect_encoding

    enc = detect_encoding(path)
    text = path.read_text(encoding=enc)
    delimiter = "\t" if text[:4096].count("\t") > text[:4096].count(",") else ","
    try:
        return [r for r in csv.reader(text.splitlines(), delimiter=delimiter)]
    except csv.Error as exc:
        raise InputError(f"cannot parse as CSV: {exc}", path=path) from exc


def _rows_xlsx(path: Path, sheet: str | None) -> list[list[str]] | None:
    from openpyxl import load_workbook

    from ..records.read import _cell_text  # the text a clerk sees, as the records reader uses

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        raise InputError(f"cannot open as an Excel workbook: {exc}", path=path) from exc
    try:
        if sheet is None:
            ws = wb[CASES_SHEET] if CASES_SHEET in wb.sheetnames else wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            return None
        return [[_cell_text(v, fold=False) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _table(rows: list[list[str]], index: dict[str, str], path: Path, what: str) -> tuple[list[str | None], list[tuple[int, dict[str, str]]]]:
    if not rows or not any(str(c).strip() for c in rows[0]):
        raise InputError(f"empty {what}: expected a header row", path=path)
    header = [index.get(header_key(h)) if str(h).strip() else None for h in rows[0]]
    seen: set[str] = set()
    for i, h in enumerate(header):  # a second header for one column is ignored, never merged
        if h in seen:
            header[i] = None
        elif h:
            seen.add(h)
    out = []
    for n, raw in enumerate(rows[1:], start=2):
        if not any(str(c).strip() for c in raw):
            continue
        out.append((n, {h: str(raw[i]).strip() if i < len(raw) else "" for i, h in enumerate(header) if h}))
    return header, out


def _number(text: str, integer: bool = False) -> float | int | None:
    s = text.replace(",", "").strip()
    if s == "":
        return None
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if v < 0 or v != v:
        raise ValueError(f"{text!r} is not a count or amount (negative or NaN)")
    if integer:
        if not v.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        return int(v)
    return v


def _optional_date(text: str) -> date | None:
    return parse_date(text) if text.strip() else None


def _documents(text: str) -> list[Document]:
    docs = []
    for part in text.replace("；", ";").split(";"):
        if part.strip():
            title, _, rest = part.partition("=")
            path, _, sha = rest.partition("#")
            docs.append(Document(title.strip(), path.strip(), sha.strip()))
    return docs


def _documents_text(docs: Iterable[Document]) -> str:
    return "；".join(d.title + (f"={d.path}" if d.path else "") + (f"#{d.sha256}" if d.sha256 else "") for d in docs)


def problems_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}.problems.csv")


def read_register(path: str | Path, problems: str | Path | None = None) -> Register:
    """Read and validate a case register (.csv or .xlsx) and its problems, if any.

    Raises:
        InputError: missing file or columns, or bad rows (file, row, column; up to five).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("case register not found", path=path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise InputError("a case register is .csv or .xlsx", path=path)
    is_xlsx = suffix in (".xlsx", ".xlsm")
    rows = _rows_xlsx(path, None) if is_xlsx else _rows_csv(path)
    header, records = _table(rows or [], _CASE_INDEX, path, "register")
    present = {h for h in header if h}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        names = ", ".join(f"{c} ({CASE_COLUMNS[c][0]})" for c in missing)
        raise InputError(f"missing column(s) {names}; header is {', '.join(map(str, rows[0]))}", path=path)

    # problems in detail: explicit file, the workbook's 问题 sheet, or <stem>.problems.csv
    detail_rows: list[tuple[int, dict[str, str]]] = []
    detail_path: Path | None = None
    if problems is not None:
        detail_path = Path(problems)
        if not detail_path.is_file():
            raise InputError("problems file not found", path=detail_path)
        prow = _rows_xlsx(detail_path, PROBLEMS_SHEET) if detail_path.suffix.lower() in (".xlsx", ".xlsm") else _rows_csv(detail_path)
    elif is_xlsx:
        prow, detail_path = _rows_xlsx(path, PROBLEMS_SHEET), path
    elif problems_path_for(path).is_file():
        detail_path = problems_path_for(path)
        prow = _rows_csv(detail_path)
    else:
        prow = None
    if prow:
        pheader, detail_rows = _table(prow, _PROBLEM_INDEX, detail_path, "problems sheet")
        for col in ("case_id", "description"):
            if col not in pheader:
                raise InputError(f"problems sheet: missing column {col} ({PROBLEM_COLUMNS[col][0]})", path=detail_path)

    errors: list[str] = []
    by_case: dict[str, list[Problem]] = {}
    for n, cells in detail_rows:
        col = "description"
        try:
            if not cells["case_id"]:
                raise ValueError("empty")
            col = "due_on"
            due = _optional_date(cells.get("due_on", ""))
            col = "done_on"
            done = _optional_date(cells.get("done_on", ""))
            col = "rectified"
            flag = fold(cells.get("rectified", ""))
            rect = True if done or flag in _YES else False if flag in _NO or flag == "" else None
            if rect is None:
                raise ValueError(f"{cells['rectified']!r} is not 是/否")
        except ValueError as exc:
            errors.append(f"{detail_path.name if detail_path else ''} row {n}, column {col}: {exc}")
            continue
        ids = [f.strip() for f in cells.get("finding_ids", "").replace("；", ";").replace(",", ";").split(";") if f.strip()]
        by_case.setdefault(cells["case_id"], []).append(Problem(cells.get("description", ""), ids, due, done, rect))

    cases: list[Case] = []
    seen_ids: set[str] = set()
    for n, cells in records:
        col = ""
        try:
            for col in REQUIRED:
                if not cells.get(col):
                    raise ValueError("empty")
            col = "unit_type"
            utype = parse_unit_type(cells["unit_type"])
            col = "inspected_on"
            when = parse_date(cells["inspected_on"])
            col = "outcome"
            outcomes = parse_outcomes(cells.get("outcome", ""))
            col = "fine_wan"
            fine = _number(cells.get("fine_wan", ""))
            col = "unlicensed_persons"
            unlicensed = _number(cells.get("unlicensed_persons", ""), integer=True)
            col = "referred_clues"
            clue_text = cells.get("referred_clues", "")
            clues = {"是": 1, "否": 0}.get(clue_text.strip(), None) if clue_text.strip() in ("是", "否") else \
                _number(clue_text, integer=True)
            col = "problems_found"
            found = _number(cells.get("problems_found", ""), integer=True)
            col = "problems_rectified"
            rectified = _number(cells.get("problems_rectified", ""), integer=True)
            col = "closed_on"
            closed = _optional_date(cells.get("closed_on", ""))
            col = "case_id"
            case_id = cells.get("case_id") or f"{path.stem}-{n}"
            if case_id in seen_ids:
                raise ValueError(f"{case_id!r} appears twice")
            seen_ids.add(case_id)
            col = "problems_found"
            plist = _problems(by_case.pop(case_id, None), found, rectified, outcomes)
        except ValueError as exc:
            errors.append(f"row {n}, column {col} ({CASE_COLUMNS[col][0]}): {exc}")
            continue
        cases.append(Case(case_id, cells["city"], cells.get("county", ""), utype, cells["unit_name"], when,
                          parse_methods(cells.get("methods", "")), outcomes, fine, unlicensed, clues, plist,
                          cells.get("exam_point", ""), cells.get("summary", ""), _documents(cells.get("documents", "")),
                          closed, n))
    for orphan in by_case:
        errors.append(f"problems sheet names case {orphan!r}, which is not in the register")
    if errors:
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InputError("; ".join(errors[:5]) + more, path=path)
    columns = set(present)
    if detail_rows:
        columns |= {"problems_found", "problems_rectified"}
    return Register(path, columns, cases)


def _problems(detail: list[Problem] | None, found: int | None, rectified: int | None,
              outcomes: frozenset[str]) -> list[Problem] | None:
    """Problems from the detail sheet, else from the counts; counts that disagree are an error."""
    if detail is not None:
        if found is not None and found != len(detail):
            raise ValueError(f"says {found} problem(s) but the problems sheet lists {len(detail)}")
        done = sum(bool(p.rectified) for p in detail)
        if rectified is not None and rectified != done:
            raise ValueError(f"完成整改问题数 {rectified} but the problems sheet marks {done} rectified")
        return detail
    if found is None:
        return [] if outcomes == {"无问题"} else None
    if rectified is not None and rectified > found:
        raise ValueError(f"{rectified} rectified is more than the {found} found")
    # counts only: anonymous problems; rectification unknown (None) when not counted
    return [Problem("", rectified=(i < rectified) if rectified is not None else None) for i in range(found)]


# -- writing -------------------------------------------------------------------------------------

def _case_row(c: Case) -> dict[str, Any]:
    return {
        "case_id": c.case_id, "city": c.city, "county": c.county, "unit_type": c.unit_type, "unit_name": c.unit_name,
        "exam_point": c.exam_point, "inspected_on": c.inspected_on.isoformat(), "methods": "；".join(c.methods),
        "outcome": outcome_text(c.outcomes), "fine_wan": c.fine_wan, "unlicensed_persons": c.unlicensed_persons,
        "referred_clues": c.referred_clues, "problems_found": c.problem_count(),
        "problems_rectified": None if c.problems is None or any(p.rectified is None for p in c.problems) else c.rectified_count(),
        "summary": c.summary, "documents": _documents_text(c.documents),
        "closed_on": c.closed_on.isoformat() if c.closed_on else None,
    }


def _problem_rows(cases: Iterable[Case]) -> list[dict[str, Any]]:
    out = []
    for c in cases:
        for p in c.problems or []:
            if not p.description and not p.finding_ids and p.due_on is None and p.done_on is None:
                continue  # an anonymous counted problem: the counts on the case row carry it
            out.append({"case_id": c.case_id, "description": p.description, "finding_ids": ";".join(p.finding_ids),
                        "due_on": p.due_on.isoformat() if p.due_on else None,
                        "done_on": p.done_on.isoformat() if p.done_on else None,
                        "rectified": None if p.rectified is None else ("是" if p.rectified else "否")})
    return out


def write_register(cases: list[Case], path: str | Path) -> Path:
    """Write the register: ``.xlsx`` with sheets 案件 and 问题, or ``.csv`` plus
    ``<stem>.problems.csv`` when any problem is described. Written via a temporary file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError("a case register is written as .csv or .xlsx", path=path)
    if any(c.problems and any(p.description or p.finding_ids or p.due_on or p.done_on for p in c.problems)
           and any(not (p.description or p.finding_ids or p.due_on or p.done_on) for p in c.problems) for c in cases):
        # mixed anonymous and described problems cannot round-trip through counts + sheet
        cases = [_describe_anonymous(c) for c in cases]
    path.parent.mkdir(parents=True, exist_ok=True)
    crow = [_case_row(c) for c in cases]
    prow = _problem_rows(cases)
    tmp = path.with_name(f".{path.name}.partial")
    if suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = CASES_SHEET
        append(ws, [zh for zh, _ in CASE_COLUMNS.values()])
        for r in crow:
            append(ws, [r[k] for k in CASE_COLUMNS])
        ps = wb.create_sheet(PROBLEMS_SHEET)
        append(ps, [zh for zh, _ in PROBLEM_COLUMNS.values()])
        for r in prow:
            append(ps, [r[k] for k in PROBLEM_COLUMNS])
        wb.save(tmp)
    else:
        _write_csv(tmp, CASE_COLUMNS, crow)
        side = problems_path_for(path)
        if prow:
            stmp = side.with_name(f".{side.name}.partial")
            _write_csv(stmp, PROBLEM_COLUMNS, prow)
            stmp.replace(side)
        elif side.exists():
            side.unlink()
    tmp.replace(path)
    return path


def _describe_anonymous(c: Case) -> Case:
    from dataclasses import replace

    probs = [p if (p.description or p.finding_ids or p.due_on or p.done_on) else Problem("（未描述）", rectified=p.rectified)
             for p in c.problems or []]
    return replace(c, problems=probs if c.problems is not None else None)


def _write_csv(path: Path, spec: dict, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:  # BOM: Excel then reads Chinese right
        w = csv.writer(fh)
        w.writerow([zh for zh, _ in spec.values()])
        for r in rows:
            w.writerow(["" if r[k] is None else cell(_plain(r[k])) for k in spec])


def _plain(v: Any) -> Any:
    return int(v) if isinstance(v, float) and v.is_integer() else v
