"""Load and validate records files into :mod:`.tables`, reporting every bad row.

Rules, in the auditor's terms:

* a missing required column stops the run (``InputError`` naming file and column);
* a row with a missing or unparsable required value, or an unparsable optional value, is
  *rejected*: listed in ``validation.csv`` with file, row, column and reason, and left out of
  every statistic. Nothing is coerced: ``"6O"`` is not 60, ``"Y?"`` is not yes;
* a row whose ID number fails the GB 11643 check is *kept* (the score is real) and reported;
  the identity screen turns it into a finding;
* a second row for the same key (candidate in roster or scores, candidate x item in
  responses) is rejected; the first wins. Duplicate *people* (one ID number, several
  candidate ids) and duplicate certificate numbers are findings, not validation errors;
* scores, responses and callbacks must name a candidate on the roster.

Values as people type them: full-width digits and letters are folded, NBSP trimmed, and
``—`` ``/`` ``无`` (outside yes/no answers) count as empty. 缺考 in the result or score column
marks an absent candidate (left out, noted, never counted as failed). Dates may be Excel
serials, datetime cells, ``2024年6月20日 9时00分``, ``2024/6/20 9:00`` or ``20240620 0900``,
read in the exam point's time zone.

Spreadsheet typing: an ID-number column typed as numbers has lost its last digits (Excel keeps
15). Such cells are blanked (never used to match people, never accused of a bad check digit)
and the file gets one ``action=file`` problem that becomes an ``invalid_record`` finding.
Admission and seat numbers typed as numbers get their leading zeros back from the column's
width when that is unambiguous, and the validation report says so.

Conversion runs column-wise on chunks with a vectorised fast path; only a chunk that fails
the fast path is walked value by value to find the bad rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

import numpy as np

from ..errors import InputError
from ..outputs import path_text
from . import columns as C
from .idcard import id_number_problem
from .read import CHUNK_ROWS, FileLayout, column_letter, iter_chunks
from .tables import Callbacks, Certificates, RecordsTables, RejectedRow, Responses, Roster, Scores

_CST = timezone(timedelta(hours=8))
DEFAULT_TIMEZONE = "Asia/Shanghai"
_DT_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
               "%Y年%m月%d日", "%Y%m%d %H:%M:%S", "%Y%m%d", "%Y.%m.%d", "%Y.%m.%d %H:%M",
               "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日%H时%M分", "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日%H时%M分%S秒",
               "%Y年%m月%d日 %H时", "%Y%m%d %H%M", "%Y%m%d %H%M%S", "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y-%m-%d %H:%M",
               "%Y-%m-%d %H时%M分", "%Y/%m/%d %H时%M分", "%Y-%m-%d-%H:%M", "%Y.%m.%d %H:%M:%S")
#: Excel's day zero (the 1900 leap-year bug folded in): serial 45463.375 is 2024-06-20 09:00.
_EXCEL_EPOCH = datetime(1899, 12, 30)
_OFFSET = re.compile(r":\d\d-\d\d")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
#: Text Excel shows for a long number: 3.10104E+17.
_SCI = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+]?\d+$")
#: The finding's words for an ID column saved as numbers (the issue's text, kept verbatim).
ID_AS_NUMBER_ZH = "身份证号列以数字格式保存，18位号码已丢失末位，请以文本格式重新导出"
ID_AS_NUMBER_EN = ("the ID-number column was saved as numbers, so 18-digit numbers lost their last digits; "
                   "export it again with the column as text")
_BINARY = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "对": 1, "错": 0, "正确": 1, "错误": 0,
           "是": 1, "否": 0, "y": 1, "n": 0, "yes": 1, "no": 0}
_BAD = -9


class _Problems:
    """Problems of one file, each placed at its sheet and cell when the file is a workbook."""

    def __init__(self, path: str, layout: FileLayout | None = None):
        self.path = path
        self.items: list[RejectedRow] = []
        self.layout = layout
        self.positions: dict[str, dict[str, int]] = {}  # sheet -> canonical column -> column index

    def add(self, row: int, column: str, value: str, reason: str, action: str = "rejected", sheet: str = "",
            reason_zh: str = "") -> None:
        pos = self.positions.get(sheet, {}).get(column)
        cell = f"{column_letter(pos)}{int(row)}" if pos is not None and row else ""
        self.items.append(RejectedRow(self.path, int(row), column, str(value)[:80], reason, action, sheet, cell,
                                      reason_zh))


# -- value conversion: (strings) -> (values, bad mask, reason for bad) ---------------------------

def _to_number(vals: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        out = np.array(vals, dtype=np.float64)
        bad = ~np.isfinite(out)
        return out, bad, "not a finite number"
    except ValueError:
        out = np.full(len(vals), np.nan)
        bad = np.zeros(len(vals), dtype=bool)
        for i, v in enumerate(vals):
            s = v.strip()
            if not s:
                continue
            try:
                out[i] = float(s)
            except ValueError:
                bad[i] = True
        bad |= ~np.isfinite(out) & np.array([bool(v.strip()) for v in vals])
        return out, bad, "not a number"


def _to_lookup(table: dict[str, int], vals: list[str], empty: int) -> np.ndarray:
    return np.fromiter(
        (empty if not (s := v.strip().lower()) else table.get(s, _BAD) for v in vals), dtype=np.int16, count=len(vals)
    )


_YESNO = {**{k: 1 for k in C.YES}, **{k: 0 for k in C.NO}, **{k: -1 for k in C.UNKNOWN}}
_PASSED = {**{k: 1 for k in C.PASSED_YES}, **{k: 0 for k in C.PASSED_NO}}
_OUTCOME_CODES = {name: i for i, name in enumerate(C.OUTCOMES)}
_OUTCOME = {alias: _OUTCOME_CODES[canon] for alias, canon in C.OUTCOME_OF.items()}
OUTCOME_NAMES = np.array(list(C.OUTCOMES), dtype=object)


def _parse_datetime(s: str, tz=_CST) -> np.datetime64 | None:
    d = None
    if _SERIAL.match(s):  # an Excel serial day number (a date cell exported without its format)
        try:
            d = _EXCEL_EPOCH + timedelta(days=float(s))
        except OverflowError:
            return None
        return np.datetime64(d.replace(microsecond=0) + timedelta(seconds=round(d.microsecond / 1e6)), "s")
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        s2 = " ".join(s.split())
        for fmt in _DT_FORMATS:
            try:
                d = datetime.strptime(s2, fmt)
                break
            except ValueError:
                continue
    if d is None or not 1900 <= d.year <= 2200:
        return None
    if d.tzinfo is not None:  # an explicit offset is honoured, then expressed in the exam point's time
        d = d.astimezone(tz).replace(tzinfo=None)
    return np.datetime64(d.replace(microsecond=0), "s")


def _to_datetime(vals: list[str], tz=_CST) -> tuple[np.ndarray, np.ndarray]:
    stripped = [v.strip() for v in vals]
    joined = "".join(stripped)
    try:
        # numpy would read an explicit offset as UTC (and warn); those go the careful way below
        if "+" in joined or "Z" in joined or _OFFSET.search(joined):
            raise ValueError("explicit offsets")
        out = np.array([s if s else "NaT" for s in stripped], dtype="datetime64[s]")
        return out, np.zeros(len(vals), dtype=bool)
    except ValueError:
        out = np.full(len(vals), np.datetime64("NaT"), dtype="datetime64[s]")
        bad = np.zeros(len(vals), dtype=bool)
        for i, s in enumerate(stripped):
            if s:
                d = _parse_datetime(s, tz)
                if d is None:
                    bad[i] = True
                else:
                    out[i] = d
        return out, bad


class _Coder:
    """Dictionary-codes a text column across chunks (candidate ids, item ids, responses)."""

    def __init__(self):
        self.codes: dict[str, int] = {}

    def encode(self, vals: list[str]) -> np.ndarray:
        codes = self.codes
        return np.fromiter((codes.setdefault(v.strip(), len(codes)) for v in vals), dtype=np.int32, count=len(vals))

    def labels(self) -> np.ndarray:
        out = np.empty(len(self.codes), dtype=object)
        for k, i in self.codes.items():
            out[i] = k
        return out


# -- one file -> typed columns -------------------------------------------------------------------

@dataclass
class ReadResult:
    """One file read and typed: columns of the rows kept, and everything said about the rest.

    Attributes:
        columns: canonical name -> typed array (rows kept only).
        rows: spreadsheet row of each kept record.
        sheets: sheet of each kept record (``""`` for CSV).
        present: optional columns the file has.
        problems: rejected, skipped, absent, restored and file-level notes.
        labels: dictionary labels of coded columns.
        layout: how the file was understood (sheets, header rows, mapping, rows per sheet).
        numeric: for ``candidate_id`` and ``seat``: which kept cells were typed as numbers.
    """

    columns: dict[str, np.ndarray]
    rows: np.ndarray
    sheets: np.ndarray
    present: frozenset[str]
    problems: list[RejectedRow]
    labels: dict[str, np.ndarray]
    layout: FileLayout
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    tracker: _Problems | None = field(default=None, repr=False)  # for the loaders' own checks


#: Columns whose numbers-typed cells may have lost leading zeros (restored from the column's width).
_ZERO_PADDED = ("candidate_id", "seat")


def _blank_marks(vals: list[str]) -> list[str]:
    """``—``, ``/``, ``无`` and friends as empty cells (checked on the column's distinct values)."""
    if not any(u.strip() in C.EMPTY_MARKS for u in set(vals)):
        return vals
    return ["" if v.strip() in C.EMPTY_MARKS else v for v in vals]


def read_columns(path: str | Path, spec: C.TableSpec, coded: tuple[str, ...] = (), chunk_rows: int = CHUNK_ROWS,
                 progress: Callable[[int], None] | None = None, *, sheet: str | None = None,
                 timezone_name: str = DEFAULT_TIMEZONE) -> ReadResult:
    """Read one file (every sheet with the table's header) and type its columns.

    Raises:
        InputError: file unreadable, or a required column missing (named in English and Chinese).
    """
    path = Path(path)
    try:
        tz = _CST if timezone_name == DEFAULT_TIMEZONE else ZoneInfo(timezone_name)
    except (KeyError, ValueError) as exc:
        raise InputError(f"unknown time zone {timezone_name!r}", path=path) from exc
    headers, chunks, layout = iter_chunks(path, chunk_rows, spec=spec, sheet=sheet)
    found, _unknown = C.header_map(spec, headers)
    for col in spec.required:
        if col.name not in found:
            raise InputError(f"missing required column '{col.name}' ({col.zh}); headers are {headers}", path=path)
    for group in spec.one_of:
        if not any(g in found for g in group):
            names = " or ".join(f"'{g}' ({spec.column(g).zh})" for g in group)
            raise InputError(f"missing required column: needs {names}", path=path)
    required = {c.name for c in spec.required}
    present = frozenset(n for n in found if n not in required)
    problems = _Problems(path_text(path), layout)
    coders = {name: _Coder() for name in coded}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in found}
    numeric_parts: dict[str, list[np.ndarray]] = {name: [] for name in _ZERO_PADDED if name in found}
    row_parts: list[np.ndarray] = []
    sheet_parts: list[np.ndarray] = []
    width = len(headers)
    id_as_number: list[tuple[str, int, str]] = []  # (sheet, row, value) of ID cells typed as numbers
    absent_cols = [n for n in ("total", "passed") if n in found]
    numeric_codes: dict[str, set[int]] = {}

    for chunk in chunks:
        sh = chunk.sheet
        if sh not in problems.positions:
            index = chunk.col_index or list(range(width))
            problems.positions[sh] = {name: index[pos] for name, pos in found.items()}
        for note in chunk.skipped:
            problems.add(note.row, "*", note.text, note.reason, action="skipped", sheet=note.sheet or sh)
        for n, raw, n_fields in chunk.malformed:
            problems.add(n, "*", raw, f"has {n_fields} fields, the header has {width}", sheet=sh)
        if not len(chunk.numbers):
            continue
        nums = chunk.numbers
        bad_row = np.zeros(len(nums), dtype=bool)
        absent = np.zeros(len(nums), dtype=bool)
        for name in absent_cols:
            vals = chunk.columns[found[name]]
            if not C.ABSENT.isdisjoint(v.strip() for v in vals):
                hit = np.fromiter((v.strip() in C.ABSENT for v in vals), dtype=bool, count=len(vals))
                for i in np.flatnonzero(hit & ~absent):
                    problems.add(nums[i], name, vals[i], "absent (缺考): did not sit; left out of scores and pass rates, "
                                 "not counted as failed", action="absent", sheet=sh)
                absent |= hit
        typed: dict[str, np.ndarray] = {}
        for name, pos in found.items():
            col = spec.column(name)
            vals = chunk.columns[pos]
            is_req = name in required and name not in spec.may_be_empty
            if (name not in coders or name in spec.may_be_empty) and col.kind != "yesno":
                vals = _blank_marks(vals)
            if name == "id_number":
                mask = chunk.numeric.get(pos)
                lost = [i for i, v in enumerate(vals) if (mask is not None and mask[i] and len(v.strip()) >= 16)
                        or _SCI.match(v.strip())]
                if lost:
                    vals = list(vals)
                    for i in lost:
                        id_as_number.append((sh, int(nums[i]), vals[i].strip()))
                        vals[i] = ""
            if name in coders:
                v = coders[name].encode(vals)
                empty_code = coders[name].codes.get("", -1)
                bad = (v == empty_code) if is_req else np.zeros(len(v), dtype=bool)
                reason = "empty required value"
            elif col.kind == "text":
                v = np.array([x.strip() for x in vals], dtype=object)
                bad, reason = (v == "") if is_req else np.zeros(len(v), dtype=bool), "empty required value"
            elif col.kind == "number":
                v, bad, reason = _to_number(vals)
                if is_req:
                    bad |= np.isnan(v)
                    reason = "missing or not a number"
            elif col.kind == "datetime":
                v, bad = _to_datetime(vals, tz)
                reason = "not a date/time (use YYYY-MM-DD HH:MM:SS)"
                if is_req:
                    bad |= np.isnat(v)
                    reason = "missing or not a date/time (use YYYY-MM-DD HH:MM:SS)"
            else:
                table, empty_code = {"binary": (_BINARY, _BAD), "yesno": (_YESNO, -1),
                                     "passed": (_PASSED, -1), "outcome": (_OUTCOME, _BAD)}[col.kind]
                # an unasked callback question (call not reached) is empty: unknown, not a bad row
                v = _to_lookup(table, vals, empty_code if col.kind == "yesno" or not is_req else _BAD).astype(np.int8)
                bad = v == _BAD
                reason = {"binary": "must be 0 or 1", "yesno": "must be yes / no / unknown (是/否/不清楚)",
                          "passed": "must be 合格/不合格/通过/未通过/缺考 or 1/0",
                          "outcome": "must be reached / unreachable / wrong_number / refused"}[col.kind]
            bad = bad & ~absent
            if bad.any():
                for i in np.flatnonzero(bad):
                    problems.add(nums[i], name, vals[i], reason, sheet=sh)
                bad_row |= bad
            typed[name] = v
        keep = ~bad_row & ~absent
        for name, v in typed.items():
            parts[name].append(v[keep])
        for name in numeric_parts:
            m = chunk.numeric.get(found[name])
            if name in coders:  # coded: remember which labels came from number cells
                if m is not None and m.any():
                    numeric_codes.setdefault(name, set()).update(typed[name][m & keep].tolist())
                continue
            numeric_parts[name].append(m[keep] if m is not None else np.zeros(int(keep.sum()), dtype=bool))
        row_parts.append(nums[keep])
        sheet_parts.append(np.full(int(keep.sum()), sh, dtype=object))
        if progress:
            progress(len(nums))

    empty = {"number": np.float64, "datetime": "datetime64[s]", "text": object}
    cols = {name: (np.concatenate(p) if p else np.empty(0, dtype=np.int32 if name in coders else
                                                       empty.get(spec.column(name).kind, np.int8)))
            for name, p in parts.items()}
    rows_out = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
    sheets_out = np.concatenate(sheet_parts) if sheet_parts else np.empty(0, dtype=object)
    numeric = {name: (np.concatenate(p) if p else np.zeros(0, dtype=bool)) for name, p in numeric_parts.items()}
    labels = {name: c.labels() for name, c in coders.items()}
    if id_as_number:
        sh, row, value = id_as_number[0]
        problems.add(row, "id_number", value,
                     f"{ID_AS_NUMBER_EN} ({len(id_as_number)} cell(s), first shown; these numbers are not used "
                     f"to match people and are not checked)", action="file", sheet=sh, reason_zh=ID_AS_NUMBER_ZH)
    for name, codes in numeric_codes.items():
        lab = labels[name]
        mask = np.zeros(len(lab), dtype=bool)
        mask[list(codes)] = True
        numeric[name] = mask  # for coded columns: per label
        labels[name], note = restore_leading_zeros(lab, mask)
        if note:
            problems.add(0, name, labels[name][note[0]], f"{note[2]} value(s) typed as numbers had lost their leading "
                         f"zeros; restored to the column's width of {note[1]} digits", action="restored")
    for name in list(numeric):
        if name in cols and name not in coders:
            cols[name], note = restore_leading_zeros(cols[name], numeric[name])
            if note:
                i, width_, n = note
                problems.add(rows_out[i], name, cols[name][i],
                             f"{n} cell(s) typed as numbers had lost their leading zeros; restored to the column's "
                             f"width of {width_} digits", action="restored", sheet=str(sheets_out[i]))
    _count_rejections(layout, problems.items)
    return ReadResult(cols, rows_out, sheets_out, present, problems.items, labels, layout, numeric, problems)


def restore_leading_zeros(values: np.ndarray, numeric: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int] | None]:
    """Give numbers-typed cells back the leading zeros Excel took, when the column's width is clear.

    The width is clear when the column's text cells (or, if all are numbers, most cells) share
    one width ``w`` and every numbers-typed cell is all digits and no wider. Padding must not
    make two different cells equal. Returns the values and (first restored index, w, count), or
    ``None`` when nothing was restored.

    Example:
        >>> v, note = restore_leading_zeros(np.array(["01", "2", "10"], dtype=object), np.array([False, True, True]))
        >>> list(v), note
        (['01', '02', '10'], (1, 2, 1))
    """
    if not numeric.any():
        return values, None
    s = values.astype(str)
    filled = s != ""
    widths = np.char.str_len(s.astype("U"))
    text_w = set(widths[filled & ~numeric].tolist())
    if len(text_w) > 1:
        return values, None
    if text_w:
        w = text_w.pop()
    else:
        ws, counts = np.unique(widths[filled], return_counts=True)
        if not len(ws):
            return values, None
        w = int(ws[np.argmax(counts)])
        if counts.max() * 2 <= filled.sum() or w != ws.max():
            return values, None
    short = numeric & filled & (widths < w)
    if not short.any() or not all(x.isdigit() for x in s[numeric & filled]) or (widths[numeric & filled] > w).any():
        return values, None
    out = values.copy()
    for i in np.flatnonzero(short):
        out[i] = s[i].zfill(w)
    if len(set(out[filled].tolist())) != len(set(s[filled].tolist())):
        return values, None  # padding would merge two cells: not unambiguous
    return out, (int(np.flatnonzero(short)[0]), int(w), int(short.sum()))


def _count_rejections(layout: FileLayout, items: list[RejectedRow]) -> None:
    by_sheet: dict[str, set[int]] = {}
    for r in items:
        if r.action == "rejected":
            by_sheet.setdefault(r.sheet, set()).add(r.row)
    for rep in layout.sheets:
        rep.rows_rejected = len(by_sheet.get(rep.name, ()))


def _text(cols: dict[str, np.ndarray], name: str, n: int) -> np.ndarray:
    return cols[name] if name in cols else np.full(n, "", dtype=object)


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """Mask keeping the first occurrence of each key, in file order."""
    _, first = np.unique(keys, return_index=True)
    keep = np.zeros(len(keys), dtype=bool)
    keep[first] = True
    return keep


def _reject_repeats(keys: np.ndarray, res: ReadResult, problems: _Problems, column: str, what: str) -> np.ndarray:
    keep = _first_of_each(keys)
    for i in np.flatnonzero(~keep):
        problems.add(res.rows[i], column, keys[i], f"second {what}; the first row for it is used", sheet=res.sheets[i])
    return keep


#: A column where more than this share of all-digit ID numbers fail the check digit went through a
#: (float) number somewhere (Excel, a script) before it reached us: rounded last digits fail the check
#: 10 times in 11 (share ~0.91), real registers rarely, and a mill inventing numbers at random would
#: need to fake over 80% of a roster to be mistaken for one. Such a column is one file-level problem,
#: not hundreds of accusations.
DAMAGED_COLUMN_SHARE = 0.8
DAMAGED_COLUMN_MIN = 5


def _id_problems(ids: np.ndarray, keep: np.ndarray, res: ReadResult, problems: _Problems) -> np.ndarray:
    """Report bad ID numbers (kept rows); return the IDs with a damaged column's digit-only values blanked."""
    found = []
    for i in np.flatnonzero(keep & (ids != "")):
        why = id_number_problem(ids[i])
        if why:
            found.append((i, why))
    digits = [i for i in np.flatnonzero(keep & (ids != "")) if ids[i].isdigit() and len(ids[i]) == 18]
    failed = [i for i, why in found if why.startswith("check digit") and ids[i].isdigit()]
    if len(failed) >= DAMAGED_COLUMN_MIN and len(failed) > DAMAGED_COLUMN_SHARE * len(digits):
        i = failed[0]
        problems.add(res.rows[i], "id_number", ids[i],
                     f"{ID_AS_NUMBER_EN} ({len(failed)} of {len(digits)} all-digit ID numbers fail the check digit, "
                     f"as numbers that passed through a number format do; the all-digit ones are not used to match "
                     f"people and are not checked)", action="file", sheet=res.sheets[i], reason_zh=ID_AS_NUMBER_ZH)
        ids = ids.copy()
        ids[digits] = ""
        found = [(i, why) for i, why in found if ids[i] != ""]
    for i, why in found:
        problems.add(res.rows[i], "id_number", ids[i], f"ID number {why}", action="kept", sheet=res.sheets[i])
    return ids


def _pad_to_known(values: np.ndarray, numeric: np.ndarray | None, known, res: ReadResult | None,
                  problems: _Problems, column: str) -> np.ndarray:
    """Numbers-typed ids that lost their leading zeros, matched back to the file they refer to.

    ``7`` in a scores sheet typed as numbers is ``000007`` when every id on the roster is six
    digits and ``000007`` is on it while ``7`` is not: that is unambiguous, and said so.
    """
    if numeric is None or not numeric.any():
        return values
    widths = {len(k) for k in known if isinstance(k, str) and k.isdigit()}
    if len(widths) != 1:
        return values
    w = widths.pop()
    out, first, n = values, None, 0
    for i in np.flatnonzero(numeric):
        v = values[i]
        if isinstance(v, str) and v.isdigit() and len(v) < w and v not in known and v.zfill(w) in known:
            if out is values:
                out = values.copy()
            out[i] = v.zfill(w)
            first = i if first is None else first
            n += 1
    if n:
        row = int(res.rows[first]) if res is not None else 0
        sheet = str(res.sheets[first]) if res is not None else ""
        problems.add(row, column, out[first], f"{n} id(s) typed as numbers had lost their leading zeros; restored to "
                     f"the {w} digits of the ids they refer to", action="restored", sheet=sheet)
    return out


def _done(res: ReadResult, problems: _Problems) -> list[RejectedRow]:
    _count_rejections(res.layout, problems.items)
    return problems.items


# -- the five files ------------------------------------------------------------------------------

def load_roster(path: str | Path, *, sheet: str | None = None) -> tuple[Roster, list[RejectedRow]]:
    res = read_columns(path, C.ROSTER, sheet=sheet)
    cols, rows, problems = res.columns, res.rows, res.tracker
    n = len(rows)
    keep = _reject_repeats(cols["candidate_id"], res, problems, "candidate_id", "roster row for this candidate")
    ids = np.array([s.upper() for s in _text(cols, "id_number", n)], dtype=object)
    ids = _id_problems(ids, keep, res, problems)
    sel = lambda a: a[keep]  # noqa: E731
    roster = Roster(
        candidate_id=sel(cols["candidate_id"]), exam_point=sel(cols["exam_point"]), session=sel(cols["session"]),
        name=sel(_text(cols, "name", n)), id_number=sel(ids),
        phone=sel(_text(cols, "phone", n)), room=sel(_text(cols, "room", n)), seat=sel(_text(cols, "seat", n)),
        category=sel(_text(cols, "category", n)), row=sel(rows), path=path_text(path), present=res.present,
        sheet=sel(res.sheets), layout=res.layout,
    )
    return roster, _done(res, problems)


def load_scores(path: str | Path, roster: Roster, *, sheet: str | None = None,
                timezone_name: str = DEFAULT_TIMEZONE) -> tuple[Scores, list[RejectedRow]]:
    res = read_columns(path, C.SCORES, sheet=sheet, timezone_name=timezone_name)
    cols, rows, problems, sh = res.columns, res.rows, res.tracker, res.sheets
    n = len(rows)
    where = {c: i for i, c in enumerate(roster.candidate_id)}
    cid = _pad_to_known(cols["candidate_id"], res.numeric.get("candidate_id"), where, res, problems, "candidate_id")
    keep = _reject_repeats(cid, res, problems, "candidate_id", "score row for this candidate")
    for i in np.flatnonzero(keep):
        j = where.get(cid[i])
        if j is None:
            problems.add(rows[i], "candidate_id", cid[i], "candidate is not on the roster", sheet=sh[i])
            keep[i] = False
        elif roster.exam_point[j] != cols["exam_point"][i] or roster.session[j] != cols["session"][i]:
            problems.add(rows[i], "exam_point", f"{cols['exam_point'][i]}/{cols['session'][i]}",
                         f"roster puts this candidate in {roster.exam_point[j]}/{roster.session[j]}", sheet=sh[i])
            keep[i] = False
    total = cols["total"]
    for i in np.flatnonzero(keep & (total < 0)):
        problems.add(rows[i], "total", total[i], "negative score", sheet=sh[i])
        keep[i] = False
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    started = cols.get("started_at", nat)
    submitted = cols.get("submitted_at", nat)
    backwards = keep & ~np.isnat(started) & ~np.isnat(submitted) & (submitted < started)
    for i in np.flatnonzero(backwards):
        problems.add(rows[i], "submitted_at", str(submitted[i]), "submitted before it started", sheet=sh[i])
        keep[i] = False
    sel = lambda a: a[keep]  # noqa: E731
    scores = Scores(
        candidate_id=sel(cid), exam_point=sel(cols["exam_point"]), session=sel(cols["session"]), total=sel(total),
        passed=sel(cols.get("passed", np.full(n, -1, dtype=np.int8))),
        pass_mark=sel(cols.get("pass_mark", np.full(n, np.nan))), started_at=sel(started), submitted_at=sel(submitted),
        row=sel(rows), path=path_text(path), present=res.present, sheet=sel(sh), layout=res.layout,
    )
    return scores, _done(res, problems)


def load_responses(path: str | Path, scores: Scores, progress: Callable[[int], None] | None = None, *,
                   sheet: str | None = None) -> tuple[Responses, list[RejectedRow]]:
    res = read_columns(path, C.RESPONSES, coded=("candidate_id", "item_id", "response"), progress=progress, sheet=sheet)
    cols, rows, labels, problems, sh = res.columns, res.rows, res.labels, res.tracker, res.sheets
    scored = set(scores.candidate_id)  # a set: np.isin on object arrays sorts Python objects
    cand_labels = _pad_to_known(labels["candidate_id"], res.numeric.get("candidate_id"), scored, None, problems,
                                "candidate_id")
    known = np.fromiter((c in scored for c in cand_labels), dtype=bool, count=len(cand_labels))
    person, item = cols["candidate_id"], cols["item_id"]
    keep = known[person] if len(person) else np.zeros(0, dtype=bool)
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], "candidate_id", cand_labels[person[i]], "candidate has no score row", sheet=sh[i])
    seconds = cols["seconds"]
    neg = keep & (seconds <= 0)
    for i in np.flatnonzero(neg):
        problems.add(rows[i], "seconds", seconds[i], "response time must be positive", sheet=sh[i])
    keep &= ~neg
    key = person.astype(np.int64) * max(len(labels["item_id"]), 1) + item
    first = np.zeros(len(key), dtype=bool)
    if keep.any():
        idx = np.flatnonzero(keep)
        _, pos = np.unique(key[idx], return_index=True)
        first[idx[pos]] = True
    for i in np.flatnonzero(keep & ~first):
        problems.add(rows[i], "item_id", labels["item_id"][item[i]], "second response to this item; the first is used",
                     sheet=sh[i])
    keep &= first
    responses = Responses(
        candidate_ids=cand_labels, item_ids=labels["item_id"], response_labels=labels["response"],
        person=person[keep], item=item[keep], response=cols["response"][keep].astype(np.int16),
        correct=cols["correct"][keep].astype(np.int8), seconds=seconds[keep].astype(np.float32), path=path_text(path),
        layout=res.layout,
    )
    return responses, _done(res, problems)


def load_callbacks(path: str | Path, roster: Roster, *, sheet: str | None = None,
                   timezone_name: str = DEFAULT_TIMEZONE) -> tuple[Callbacks, list[RejectedRow]]:
    res = read_columns(path, C.CALLBACKS, sheet=sheet, timezone_name=timezone_name)
    cols, rows, problems, sh = res.columns, res.rows, res.tracker, res.sheets
    on_roster = set(roster.candidate_id)
    cols["candidate_id"] = _pad_to_known(cols["candidate_id"], res.numeric.get("candidate_id"), on_roster, res, problems,
                                         "candidate_id")
    keep = np.fromiter((c in on_roster for c in cols["candidate_id"]), dtype=bool, count=len(cols["candidate_id"]))
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], "candidate_id", cols["candidate_id"][i], "candidate is not on the roster", sheet=sh[i])
    n = len(rows)
    sel = lambda a: a[keep]  # noqa: E731
    callbacks = Callbacks(
        candidate_id=sel(cols["candidate_id"]), called_at=sel(cols["called_at"]),
        outcome=OUTCOME_NAMES[sel(cols["outcome"]).astype(np.int64)] if n else np.empty(0, dtype=object),
        attended_training=sel(cols["attended_training"]), sat_exam_in_person=sel(cols["sat_exam_in_person"]),
        paid_intermediary=sel(cols["paid_intermediary"]), notes=sel(_text(cols, "notes", n)), row=sel(rows),
        path=path_text(path), sheet=sel(sh), layout=res.layout,
    )
    return callbacks, _done(res, problems)


def load_certificates(path: str | Path, *, sheet: str | None = None,
                      timezone_name: str = DEFAULT_TIMEZONE) -> tuple[Certificates, list[RejectedRow]]:
    res = read_columns(path, C.CERTIFICATES, sheet=sheet, timezone_name=timezone_name)
    cols, rows, problems, sh = res.columns, res.rows, res.tracker, res.sheets
    n = len(rows)
    cid = _text(cols, "candidate_id", n)
    ids = np.array([s.upper() for s in _text(cols, "id_number", n)], dtype=object)
    keep = (cid != "") | (ids != "")
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], "candidate_id", "", "names neither a candidate id nor an ID number", sheet=sh[i])
    ids = _id_problems(ids, keep, res, problems)
    sel = lambda a: a[keep]  # noqa: E731
    certs = Certificates(
        certificate_no=sel(cols["certificate_no"]), candidate_id=sel(cid),
        id_number=sel(ids), name=sel(_text(cols, "name", n)),
        category=sel(_text(cols, "category", n)), issued_at=sel(cols["issued_at"]), exam_point=sel(cols["exam_point"]),
        session=sel(cols["session"]), row=sel(rows), path=path_text(path), present=res.present, sheet=sel(sh),
        layout=res.layout,
    )
    return certs, _done(res, problems)


def load_records(roster: str | Path, scores: str | Path, responses: str | Path | None = None,
                 callbacks: str | Path | None = None, certificates: str | Path | None = None,
                 progress: Callable[[int], None] | None = None, *, timezone_name: str = DEFAULT_TIMEZONE) -> RecordsTables:
    """Load every given file, validating each against the ones it refers to.

    ``timezone_name`` is the exam point's zone: times without an offset are read as its local
    time, times with one are converted to it.
    """
    r, rej = load_roster(roster)
    _need_rows(r, rej, roster, "candidate")
    s, rej_s = load_scores(scores, r, timezone_name=timezone_name)
    _need_rows(s, rej_s, scores, "score")
    tables = RecordsTables(roster=r, scores=s, rejected=rej + rej_s)
    if responses is not None:
        tables.responses, more = load_responses(responses, s, progress=progress)
        tables.rejected += more
    if callbacks is not None:
        tables.callbacks, more = load_callbacks(callbacks, r, timezone_name=timezone_name)
        tables.rejected += more
    if certificates is not None:
        tables.certificates, more = load_certificates(certificates, timezone_name=timezone_name)
        tables.rejected += more
    return tables


def _need_rows(table, problems: list[RejectedRow], path: str | Path, what: str) -> None:
    """Stop (exit 2) when a required file yields no usable row, naming the first reason and place."""
    if len(table):
        return
    bad = [p for p in problems if p.action == "rejected"]
    if bad:
        b = bad[0]
        cell = b.location.split("!", 1)[-1] if "!" in b.location else f"row {b.row}"
        raise InputError(f"no valid {what} rows: all {len({(x.sheet, x.row) for x in bad})} were rejected; the first, "
                         f"{cell} column {b.column!r} ({b.value!r}): {b.reason}", path=path)
    raise InputError(f"no {what} rows under the header", path=path)
