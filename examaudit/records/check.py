"""A dry run over records files: how each was understood, before any audit runs.

``check_records(files)`` returns one :class:`FileCheck` per file: its role (guessed from the
name, else from the header), format and encoding, each sheet with its header row and the rows
read, skipped and rejected, the column mapping, and every problem as one line naming the
place (``roster.xlsx[第二批]!A17``). ``examaudit records check`` prints it; the server's upload
page shows the same dataclass. Nothing is written.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "roster.csv").write_text("名单\\n准考证号,考点,场次\\nK1,EP,S1\\n合计,1,\\n", encoding="utf-8")
    >>> c = check_records([d / "roster.csv"])[0]
    >>> c.role, c.sheets[0].header_row, c.rows_read, c.rows_skipped, c.mapping["candidate_id"]
    ('roster', 2, 1, 2, '准考证号')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from . import columns as C
from .load import load_callbacks, load_certificates, load_responses, load_roster, load_scores, read_columns
from .read import SheetReport, iter_chunks

#: File-name words that say which records a file holds (checked in this order).
ROLE_WORDS = (
    ("responses", ("response", "answer", "作答", "答题", "答卷")),
    ("callbacks", ("callback", "回访")),
    ("certificates", ("certificate", "cert", "证书", "发证")),
    ("scores", ("score", "成绩", "分数")),
    ("roster", ("roster", "名单", "花名册", "报名", "考生")),
)
ROLES = ("roster", "scores", "responses", "callbacks", "certificates")


@dataclass
class FileCheck:
    """How one records file was understood.

    Attributes:
        path: the file.
        role: ``roster`` | ``scores`` | ``responses`` | ``callbacks`` | ``certificates``; ``""`` if unknown.
        format: ``csv`` | ``xlsx`` | ``xls`` | ``html`` (sniffed from the bytes, not the name).
        encoding: for text files.
        sheets: per sheet: state, header row, rows read / skipped / rejected.
        mapping: canonical column -> the header it was read from.
        unknown_headers: headers that map to no column (ignored).
        rows_read, rows_skipped, rows_rejected: totals over the sheets.
        problems: one line per problem (rejected, kept-with-problem, absent, restored, file-level).
        notes: how the file was read (renamed formats, skipped lines).
        error: why the file could not be read at all (the run would stop with exit 2).
    """

    path: str
    role: str = ""
    format: str = ""
    encoding: str = ""
    sheets: list[SheetReport] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    unknown_headers: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def guess_role(path: Path, sheet: str | None = None) -> str:
    """The role a file's name says, else the spec whose required columns its header has (most mapped wins)."""
    name = path.name.lower()
    for role, words in ROLE_WORDS:
        if any(w in name for w in words):
            return role
    best, best_n = "", 0
    for role in ROLES:
        try:
            _, chunks, layout = iter_chunks(path, spec=C.SPECS[role], sheet=sheet)
        except InputError:
            continue
        close = getattr(chunks, "close", None)
        if close:
            close()
        if len(layout.mapping) > best_n:
            best, best_n = role, len(layout.mapping)
    return best


def check_records(files: Sequence[str | Path], sheet: str | None = None,
                  roles: dict[str, str] | None = None) -> list[FileCheck]:
    """Read and validate each file as ``examaudit records`` would, and say how it was understood.

    ``roles`` maps a path (as given) to its role when the name does not say. Cross-file checks
    (a score for someone not on the roster) run when the referred-to file is among ``files``.
    """
    roles = dict(roles or {})
    checks: dict[str, FileCheck] = {}
    by_role: dict[str, list[str]] = {}
    for f in files:
        key = str(f)
        p = Path(f)
        c = FileCheck(key)
        checks[key] = c
        if not p.is_file():
            c.error = f"{p}: file not found"
            continue
        c.role = roles.get(key) or guess_role(p, sheet)
        if not c.role:
            c.error = f"{p}: cannot tell which records this is (roster, scores, responses, callbacks, certificates); " \
                      "no header names their required columns"
            continue
        by_role.setdefault(c.role, []).append(key)
    loaded: dict[str, object] = {}
    for role in ROLES:
        for key in by_role.get(role, []):
            c = checks[key]
            try:
                table, problems = _load(role, Path(key), sheet, loaded)
            except InputError as exc:
                c.error = str(exc)
                continue
            loaded.setdefault(role, table)
            _fill(c, table.layout, problems)
    return [checks[str(f)] for f in files]


def _load(role: str, path: Path, sheet: str | None, loaded: dict[str, object]):
    if role == "roster":
        return load_roster(path, sheet=sheet)
    if role == "scores" and "roster" in loaded:
        return load_scores(path, loaded["roster"], sheet=sheet)
    if role == "responses" and "scores" in loaded:
        return load_responses(path, loaded["scores"], sheet=sheet)
    if role == "callbacks" and "roster" in loaded:
        return load_callbacks(path, loaded["roster"], sheet=sheet)
    if role == "certificates":
        return load_certificates(path, sheet=sheet)
    # the file it refers to is not among those checked: the file's own checks only
    res = read_columns(path, C.SPECS[role], sheet=sheet)

    class _Only:
        layout = res.layout
    res.layout.notes.append(f"checked alone: the cross-checks against the "
                            f"{'roster' if role != 'responses' else 'scores'} run when that file is given too")
    return _Only, res.problems


def _fill(c: FileCheck, layout, problems) -> None:
    c.format, c.encoding = layout.format, layout.encoding
    c.sheets, c.mapping, c.unknown_headers = layout.sheets, layout.mapping, layout.unknown_headers
    c.notes = list(layout.notes)
    read = [s for s in layout.sheets if s.state == "read"]
    c.rows_read = sum(s.rows_read for s in read)
    c.rows_skipped = sum(s.rows_skipped for s in layout.sheets)
    c.rows_rejected = sum(s.rows_rejected for s in layout.sheets)
    for r in problems:
        line = f"{r.location} {r.column} {r.value!r}: {r.reason_zh + ' / ' if r.reason_zh else ''}{r.reason} [{r.action}]"
        (c.notes if r.action == "skipped" else c.problems).append(line)


def format_checks(checks: list[FileCheck], limit: int = 20) -> str:
    """The dry run as text for a terminal (zh-CN labels first)."""
    out = []
    for c in checks:
        out.append(f"== {c.path}")
        if c.error:
            out.append(f"  无法读取 / cannot read: {c.error}")
            continue
        enc = f", {c.encoding}" if c.encoding else ""
        out.append(f"  类型 role: {c.role}   格式 format: {c.format}{enc}")
        for s in c.sheets:
            name = f"[{s.name}]" if s.name else "(file)"
            if s.state == "read":
                hdr = f"header row {s.header_row}" + (" (two rows)" if s.header_rows == 2 else "")
                out.append(f"  {name}: {hdr}; {s.rows_read} rows read, {s.rows_skipped} skipped, {s.rows_rejected} rejected"
                           + (f"; {s.merged_filled} merged cells filled" if s.merged_filled else ""))
            else:
                out.append(f"  {name}: {s.state}, not read" + (f" ({s.rows_skipped} non-empty rows)" if s.rows_skipped else ""))
        out.append("  列 columns: " + ", ".join(f"{k} <- {v}" for k, v in c.mapping.items()))
        if c.unknown_headers:
            out.append("  未识别 ignored headers: " + ", ".join(c.unknown_headers))
        out.append(f"  合计 total: {c.rows_read} rows read, {c.rows_skipped} skipped, {c.rows_rejected} rejected")
        for line in c.notes[:limit]:
            out.append(f"  note: {line}")
        for line in c.problems[:limit]:
            out.append(f"  problem: {line}")
        if len(c.problems) > limit:
            out.append(f"  ... and {len(c.problems) - limit} more problems (all are in validation.csv of a run)")
    return "\n".join(out)
