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

Conversion runs column-wise on chunks with a vectorised fast path; only a chunk that fails
the fast path is walked value by value to find the bad rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from . import columns as C
from .idcard import id_number_problem
from .read import CHUNK_ROWS, iter_chunks
from .tables import Callbacks, Certificates, RecordsTables, RejectedRow, Responses, Roster, Scores

_CST = timezone(timedelta(hours=8))
_DT_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
               "%Y年%m月%d日", "%Y%m%d %H:%M:%S", "%Y%m%d", "%Y.%m.%d", "%Y.%m.%d %H:%M")
_BINARY = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "对": 1, "错": 0, "正确": 1, "错误": 0,
           "是": 1, "否": 0, "y": 1, "n": 0, "yes": 1, "no": 0}
_BAD = -9


class _Problems:
    def __init__(self, path: str):
        self.path = path
        self.items: list[RejectedRow] = []

    def add(self, row: int, column: str, value: str, reason: str, action: str = "rejected") -> None:
        self.items.append(RejectedRow(self.path, int(row), column, str(value)[:80], reason, action))


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


def _parse_datetime(s: str) -> np.datetime64 | None:
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        d = None
        for fmt in _DT_FORMATS:
            try:
                d = datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
    if d is None:
        return None
    if d.tzinfo is not None:  # an explicit offset is honoured, then expressed in China time
        d = d.astimezone(_CST).replace(tzinfo=None)
    return np.datetime64(d.replace(microsecond=0), "s")


def _to_datetime(vals: list[str]) -> tuple[np.ndarray, np.ndarray]:
    stripped = [v.strip() for v in vals]
    try:
        out = np.array([s if s else "NaT" for s in stripped], dtype="datetime64[s]")
        return out, np.zeros(len(vals), dtype=bool)
    except ValueError:
        out = np.full(len(vals), np.datetime64("NaT"), dtype="datetime64[s]")
        bad = np.zeros(len(vals), dtype=bool)
        for i, s in enumerate(stripped):
            if s:
                d = _parse_datetime(s)
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

def read_columns(path: str | Path, spec: C.TableSpec, coded: tuple[str, ...] = (), chunk_rows: int = CHUNK_ROWS,
                 progress: Callable[[int], None] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray, frozenset[str], list[RejectedRow], dict[str, np.ndarray]]:
    """Read one file and type its columns; return (columns, row numbers, optional columns present,
    problems, labels of coded columns).

    Raises:
        InputError: file unreadable, or a required column missing (named in English and Chinese).
    """
    path = Path(path)
    headers, chunks = iter_chunks(path, chunk_rows)
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
    problems = _Problems(str(path))
    coders = {name: _Coder() for name in coded}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in found}
    row_parts: list[np.ndarray] = []
    width = len(headers)

    for chunk in chunks:
        for n, raw, n_fields in chunk.malformed:
            problems.add(n, "*", raw, f"has {n_fields} fields, the header has {width}")
        if not len(chunk.numbers):
            continue
        nums = chunk.numbers
        bad_row = np.zeros(len(nums), dtype=bool)
        typed: dict[str, np.ndarray] = {}
        for name, pos in found.items():
            col = spec.column(name)
            vals = chunk.columns[pos]
            is_req = name in required
            if name in coders:
                v = coders[name].encode(vals)
                empty_code = coders[name].codes.get("", -1)
                bad, reason = v == empty_code, "empty required value"
            elif col.kind == "text":
                v = np.array([x.strip() for x in vals], dtype=object)
                bad, reason = (v == "") if is_req else np.zeros(len(v), dtype=bool), "empty required value"
            elif col.kind == "number":
                v, bad, reason = _to_number(vals)
                if is_req:
                    bad |= np.isnan(v)
                    reason = "missing or not a number"
            elif col.kind == "datetime":
                v, bad = _to_datetime(vals)
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
                          "passed": "must be 合格/不合格 or 1/0", "outcome": "must be reached / unreachable / wrong_number / refused"}[col.kind]
            if bad.any():
                for i in np.flatnonzero(bad):
                    problems.add(nums[i], name, vals[i], reason)
                bad_row |= bad
            typed[name] = v
        keep = ~bad_row
        for name, v in typed.items():
            parts[name].append(v[keep])
        row_parts.append(nums[keep])
        if progress:
            progress(len(nums))

    cols = {name: (np.concatenate(p) if p else np.empty(0)) for name, p in parts.items()}
    rows_out = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
    labels = {name: c.labels() for name, c in coders.items()}
    return cols, rows_out, present, problems.items, labels


def _text(cols: dict[str, np.ndarray], name: str, n: int) -> np.ndarray:
    return cols[name] if name in cols else np.full(n, "", dtype=object)


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """Mask keeping the first occurrence of each key, in file order."""
    _, first = np.unique(keys, return_index=True)
    keep = np.zeros(len(keys), dtype=bool)
    keep[first] = True
    return keep


def _reject_repeats(keys: np.ndarray, rows: np.ndarray, problems: _Problems, column: str, what: str) -> np.ndarray:
    keep = _first_of_each(keys)
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], column, keys[i], f"second {what}; the first row for it is used")
    return keep


# -- the five files ------------------------------------------------------------------------------

def load_roster(path: str | Path) -> tuple[Roster, list[RejectedRow]]:
    cols, rows, present, items, _ = read_columns(path, C.ROSTER)
    problems = _Problems(str(path))
    problems.items = items
    n = len(rows)
    keep = _reject_repeats(cols["candidate_id"], rows, problems, "candidate_id", "roster row for this candidate")
    ids = _text(cols, "id_number", n)
    for i in np.flatnonzero(keep & (ids != "")):
        why = id_number_problem(ids[i])
        if why:
            problems.add(rows[i], "id_number", ids[i], f"ID number {why}", action="kept")
    sel = lambda a: a[keep]  # noqa: E731
    roster = Roster(
        candidate_id=sel(cols["candidate_id"]), exam_point=sel(cols["exam_point"]), session=sel(cols["session"]),
        name=sel(_text(cols, "name", n)), id_number=np.array([s.upper() for s in sel(ids)], dtype=object),
        phone=sel(_text(cols, "phone", n)), room=sel(_text(cols, "room", n)), seat=sel(_text(cols, "seat", n)),
        category=sel(_text(cols, "category", n)), row=sel(rows), path=str(path), present=present,
    )
    return roster, problems.items


def load_scores(path: str | Path, roster: Roster) -> tuple[Scores, list[RejectedRow]]:
    cols, rows, present, items, _ = read_columns(path, C.SCORES)
    problems = _Problems(str(path))
    problems.items = items
    n = len(rows)
    cid = cols["candidate_id"]
    keep = _reject_repeats(cid, rows, problems, "candidate_id", "score row for this candidate")
    where = {c: i for i, c in enumerate(roster.candidate_id)}
    for i in np.flatnonzero(keep):
        j = where.get(cid[i])
        if j is None:
            problems.add(rows[i], "candidate_id", cid[i], "candidate is not on the roster")
            keep[i] = False
        elif roster.exam_point[j] != cols["exam_point"][i] or roster.session[j] != cols["session"][i]:
            problems.add(rows[i], "exam_point", f"{cols['exam_point'][i]}/{cols['session'][i]}",
                         f"roster puts this candidate in {roster.exam_point[j]}/{roster.session[j]}")
            keep[i] = False
    total = cols["total"]
    for i in np.flatnonzero(keep & (total < 0)):
        problems.add(rows[i], "total", total[i], "negative score")
        keep[i] = False
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    started = cols.get("started_at", nat)
    submitted = cols.get("submitted_at", nat)
    backwards = keep & ~np.isnat(started) & ~np.isnat(submitted) & (submitted < started)
    for i in np.flatnonzero(backwards):
        problems.add(rows[i], "submitted_at", str(submitted[i]), "submitted before it started")
        keep[i] = False
    sel = lambda a: a[keep]  # noqa: E731
    scores = Scores(
        candidate_id=sel(cid), exam_point=sel(cols["exam_point"]), session=sel(cols["session"]), total=sel(total),
        passed=sel(cols.get("passed", np.full(n, -1, dtype=np.int8))),
        pass_mark=sel(cols.get("pass_mark", np.full(n, np.nan))), started_at=sel(started), submitted_at=sel(submitted),
        row=sel(rows), path=str(path), present=present,
    )
    return scores, problems.items


def load_responses(path: str | Path, scores: Scores, progress: Callable[[int], None] | None = None) -> tuple[Responses, list[RejectedRow]]:
    cols, rows, _present, items, labels = read_columns(
        path, C.RESPONSES, coded=("candidate_id", "item_id", "response"), progress=progress
    )
    problems = _Problems(str(path))
    problems.items = items
    cand_labels = labels["candidate_id"]
    scored = set(scores.candidate_id)  # a set: np.isin on object arrays sorts Python objects
    known = np.fromiter((c in scored for c in cand_labels), dtype=bool, count=len(cand_labels))
    person, item = cols["candidate_id"], cols["item_id"]
    keep = known[person] if len(person) else np.zeros(0, dtype=bool)
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], "candidate_id", cand_labels[person[i]], "candidate has no score row")
    seconds = cols["seconds"]
    neg = keep & (seconds <= 0)
    for i in np.flatnonzero(neg):
        problems.add(rows[i], "seconds", seconds[i], "response time must be positive")
    keep &= ~neg
    key = person.astype(np.int64) * max(len(labels["item_id"]), 1) + item
    first = np.zeros(len(key), dtype=bool)
    if keep.any():
        idx = np.flatnonzero(keep)
        _, pos = np.unique(key[idx], return_index=True)
        first[idx[pos]] = True
    for i in np.flatnonzero(keep & ~first):
        problems.add(rows[i], "item_id", labels["item_id"][item[i]], "second response to this item; the first is used")
    keep &= first
    responses = Responses(
        candidate_ids=cand_labels, item_ids=labels["item_id"], response_labels=labels["response"],
        person=person[keep], item=item[keep], response=cols["response"][keep].astype(np.int16),
        correct=cols["correct"][keep].astype(np.int8), seconds=seconds[keep].astype(np.float32), path=str(path),
    )
    return responses, problems.items


def load_callbacks(path: str | Path, roster: Roster) -> tuple[Callbacks, list[RejectedRow]]:
    cols, rows, _present, items, _ = read_columns(path, C.CALLBACKS)
    problems = _Problems(str(path))
    problems.items = items
    on_roster = set(roster.candidate_id)
    keep = np.fromiter((c in on_roster for c in cols["candidate_id"]), dtype=bool, count=len(cols["candidate_id"]))
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], "candidate_id", cols["candidate_id"][i], "candidate is not on the roster")
    n = len(rows)
    sel = lambda a: a[keep]  # noqa: E731
    callbacks = Callbacks(
        candidate_id=sel(cols["candidate_id"]), called_at=sel(cols["called_at"]),
        outcome=OUTCOME_NAMES[sel(cols["outcome"]).astype(np.int64)] if n else np.empty(0, dtype=object),
        attended_training=sel(cols["attended_training"]), sat_exam_in_person=sel(cols["sat_exam_in_person"]),
        paid_intermediary=sel(cols["paid_intermediary"]), notes=sel(_text(cols, "notes", n)), row=sel(rows), path=str(path),
    )
    return callbacks, problems.items


def load_certificates(path: str | Path) -> tuple[Certificates, list[RejectedRow]]:
    cols, rows, present, items, _ = read_columns(path, C.CERTIFICATES)
    problems = _Problems(str(path))
    problems.items = items
    n = len(rows)
    cid, ids = _text(cols, "candidate_id", n), _text(cols, "id_number", n)
    keep = (cid != "") | (ids != "")
    for i in np.flatnonzero(~keep):
        problems.add(rows[i], "candidate_id", "", "names neither a candidate id nor an ID number")
    for i in np.flatnonzero(keep & (ids != "")):
        why = id_number_problem(ids[i])
        if why:
            problems.add(rows[i], "id_number", ids[i], f"ID number {why}", action="kept")
    sel = lambda a: a[keep]  # noqa: E731
    certs = Certificates(
        certificate_no=sel(cols["certificate_no"]), candidate_id=sel(cid),
        id_number=np.array([s.upper() for s in sel(ids)], dtype=object), name=sel(_text(cols, "name", n)),
        category=sel(_text(cols, "category", n)), issued_at=sel(cols["issued_at"]), exam_point=sel(cols["exam_point"]),
        session=sel(cols["session"]), row=sel(rows), path=str(path), present=present,
    )
    return certs, problems.items


def load_records(roster: str | Path, scores: str | Path, responses: str | Path | None = None,
                 callbacks: str | Path | None = None, certificates: str | Path | None = None,
                 progress: Callable[[int], None] | None = None) -> RecordsTables:
    """Load every given file, validating each against the ones it refers to."""
    r, rej = load_roster(roster)
    s, rej_s = load_scores(scores, r)
    tables = RecordsTables(roster=r, scores=s, rejected=rej + rej_s)
    if responses is not None:
        tables.responses, more = load_responses(responses, s, progress=progress)
        tables.rejected += more
    if callbacks is not None:
        tables.callbacks, more = load_callbacks(callbacks, r)
        tables.rejected += more
    if certificates is not None:
        tables.certificates, more = load_certificates(certificates)
        tables.rejected += more
    return tables
