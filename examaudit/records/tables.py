"""Typed, validated records: one plain dataclass of numpy arrays per input file.

Text columns are object arrays of ``str`` (``""`` when the file had no value), numbers are
``float64`` (``nan`` when absent), yes/no answers are ``int8`` (1 yes, 0 no, -1 unknown) and
times are ``datetime64[s]`` in China Standard Time (``NaT`` when absent). ``row`` holds the
spreadsheet row each record came from, so every statistic can be traced back to a line.

Responses are dictionary-coded because a 100,000 x 100 sitting is ten million rows: ``person``
indexes ``candidate_ids``, ``item`` indexes ``item_ids``, ``response`` indexes ``response_labels``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RejectedRow:
    """One problem with one input row. ``action`` says what we did:

    * ``rejected``: left out of all statistics;
    * ``kept``: used, and the problem reported (e.g. a bad ID number);
    * ``skipped``: not a record (title, blank, 合计 line, a hidden sheet), never read;
    * ``absent``: 缺考, a candidate who did not sit (left out of scores, not counted as failed);
    * ``restored``: a value repaired in a way the reason states (leading zeros);
    * ``file``: a problem with a whole column or file; ``reason_zh`` is the finding's text.

    ``sheet`` and ``cell`` place it in a workbook: ``location`` is ``roster.xlsx[第二批]!A17``.
    """

    file: str
    row: int
    column: str
    value: str
    reason: str
    action: str = "rejected"
    sheet: str = ""
    cell: str = ""
    reason_zh: str = ""

    @property
    def location(self) -> str:
        name = self.file.replace("\\", "/").rsplit("/", 1)[-1]
        cell = self.cell or (str(self.row) if self.row else "")
        where = f"[{self.sheet}]" if self.sheet else ""
        return f"{name}{where}!{cell}" if cell else f"{name}{where}"


@dataclass(frozen=True)
class Roster:
    candidate_id: np.ndarray
    exam_point: np.ndarray
    session: np.ndarray
    name: np.ndarray
    id_number: np.ndarray
    phone: np.ndarray
    room: np.ndarray
    seat: np.ndarray
    category: np.ndarray
    row: np.ndarray
    path: str = ""
    present: frozenset[str] = field(default_factory=frozenset)
    sheet: np.ndarray | None = None  # sheet of each row (workbooks read over several sheets)
    layout: object = None  # read.FileLayout: how the file was understood

    def __len__(self) -> int:
        return len(self.candidate_id)


@dataclass(frozen=True)
class Scores:
    candidate_id: np.ndarray
    exam_point: np.ndarray
    session: np.ndarray
    total: np.ndarray
    passed: np.ndarray
    pass_mark: np.ndarray
    started_at: np.ndarray
    submitted_at: np.ndarray
    row: np.ndarray
    path: str = ""
    present: frozenset[str] = field(default_factory=frozenset)
    sheet: np.ndarray | None = None  # sheet of each row (workbooks read over several sheets)
    layout: object = None  # read.FileLayout: how the file was understood

    def __len__(self) -> int:
        return len(self.candidate_id)

    @property
    def duration_s(self) -> np.ndarray:
        """Seconds from start to submission, ``nan`` where either time is missing."""
        d = (self.submitted_at - self.started_at).astype("timedelta64[s]").astype(np.float64)
        d[np.isnat(self.submitted_at) | np.isnat(self.started_at)] = np.nan
        return d


@dataclass(frozen=True)
class Responses:
    candidate_ids: np.ndarray
    item_ids: np.ndarray
    response_labels: np.ndarray
    person: np.ndarray
    item: np.ndarray
    response: np.ndarray
    correct: np.ndarray
    seconds: np.ndarray
    path: str = ""
    layout: object = None

    def __len__(self) -> int:
        return len(self.person)

    def matrices(self, candidate_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense (candidates x items) correct (``nan`` missing), response code (-1 missing or omitted) and seconds (``nan``).

        Rows follow ``candidate_ids``; candidates without responses get all-missing rows.
        """
        order = {c: i for i, c in enumerate(candidate_ids)}
        to_row = np.fromiter((order.get(c, -1) for c in self.candidate_ids), dtype=np.int64, count=len(self.candidate_ids))
        rows = to_row[self.person]
        keep = rows >= 0
        n, j = len(candidate_ids), len(self.item_ids)
        x = np.full((n, j), np.nan, dtype=np.float32)
        r = np.full((n, j), -1, dtype=np.int16)
        t = np.full((n, j), np.nan, dtype=np.float32)
        x[rows[keep], self.item[keep]] = self.correct[keep]
        r[rows[keep], self.item[keep]] = self.response[keep]
        t[rows[keep], self.item[keep]] = self.seconds[keep]
        # An omitted answer is scored wrong with its time, but it is no answer: two candidates who
        # both ran out of time at the end of the form did not give "the same wrong answer".
        omitted = np.flatnonzero(np.asarray([str(v).strip() == "" for v in self.response_labels], dtype=bool))
        if len(omitted):
            r[np.isin(r, omitted)] = -1
        return x, r, t


@dataclass(frozen=True)
class Callbacks:
    candidate_id: np.ndarray
    called_at: np.ndarray
    outcome: np.ndarray
    attended_training: np.ndarray
    sat_exam_in_person: np.ndarray
    paid_intermediary: np.ndarray
    notes: np.ndarray
    row: np.ndarray
    path: str = ""
    sheet: np.ndarray | None = None
    layout: object = None

    def __len__(self) -> int:
        return len(self.candidate_id)


@dataclass(frozen=True)
class Certificates:
    certificate_no: np.ndarray
    candidate_id: np.ndarray
    id_number: np.ndarray
    name: np.ndarray
    category: np.ndarray
    issued_at: np.ndarray
    exam_point: np.ndarray
    session: np.ndarray
    row: np.ndarray
    path: str = ""
    present: frozenset[str] = field(default_factory=frozenset)
    sheet: np.ndarray | None = None  # sheet of each row (workbooks read over several sheets)
    layout: object = None  # read.FileLayout: how the file was understood

    def __len__(self) -> int:
        return len(self.certificate_no)


@dataclass
class RecordsTables:
    """Everything loaded for one run; absent optional files are ``None``."""

    roster: Roster
    scores: Scores
    responses: Responses | None = None
    callbacks: Callbacks | None = None
    certificates: Certificates | None = None
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def layouts(self) -> list:
        """How each file was read (format, sheets, header rows, rows per sheet), roster first."""
        return [t.layout for t in (self.roster, self.scores, self.responses, self.callbacks, self.certificates)
                if t is not None and getattr(t, "layout", None) is not None]

    def sat_by_room(self, exam_point: str) -> dict[tuple[str, str], set[str]]:
        """The candidates the records say sat each ``(session, room)`` of ``exam_point``.

        A candidate sat when the scores file has a row for them; the room comes from the
        roster. The footage's seated headcount is held against these.

        Example:
            >>> t = RecordsTables(
            ...     Roster(*(np.array(v) for v in (["a", "b", "c"], ["P"] * 3, ["S1"] * 3, ["x"] * 3, ["1"] * 3,
            ...            ["1"] * 3, ["R1", "R1", "R2"], ["01", "02", "01"], ["k"] * 3, [2, 3, 4]))),
            ...     Scores(*(np.array(v) for v in (["a", "c"], ["P", "P"], ["S1", "S1"], [70.0, 80.0], [1, 1],
            ...            [60.0, 60.0], [None, None], [None, None], [2, 3]))))
            >>> t.sat_by_room("P")
            {('S1', 'R1'): {'a'}, ('S1', 'R2'): {'c'}}
        """
        room_of = {str(c): str(r) for c, p, r in zip(self.roster.candidate_id, self.roster.exam_point, self.roster.room)
                   if str(p) == exam_point and r not in (None, "")}
        sat: dict[tuple[str, str], set[str]] = {}
        for c, p, s in zip(self.scores.candidate_id, self.scores.exam_point, self.scores.session):
            c = str(c)
            if str(p) == exam_point and c in room_of:
                sat.setdefault((str(s), room_of[c]), set()).add(c)
        return sat
