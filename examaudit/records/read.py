"""Read records files as bureaus hand them over: header + chunks of string rows, per sheet.

What arrives in practice (and what each part below is for):

* CSV as UTF-8 (with or without BOM), GBK (Excel on Chinese Windows) or UTF-16 with a BOM
  (Excel's "Unicode text"), comma or tab separated. Anything else is refused with a message
  instead of being read as mojibake.
* XLSX (openpyxl), legacy XLS (xlrd), and "XLS" files that are really an HTML table or CSV
  (several provincial systems export those). The format is sniffed from the bytes, never
  trusted from the name.
* A title line, a 填报单位 line and a date above the header; 合计 / 小计 / 备注 lines and blank
  rows below the data; a two-row header (a group title over the column titles); merged cells;
  the table split over several sheets; hidden sheets; notes sheets.

The header row is the row, among the first :data:`HEADER_SEARCH_ROWS`, whose cells name the
most known columns (:mod:`.columns`). Sheets whose header names the same columns are one
table; other sheets are reported and skipped. Nothing is dropped silently: every row that is
not handed to validation (title lines, summary lines, blank rows, unread sheets) is returned
as a :class:`RowNote` for ``validation.csv``.

Rows are numbered as the spreadsheet shows them. Values are returned as strings (full-width
letters and digits folded, zero-width characters removed); for spreadsheet cells that were
*typed as numbers* the chunk says so, because an 18-digit ID number typed as a number has
already lost its last digits (:mod:`.load` decides what that means).
"""

from __future__ import annotations

import codecs
import csv
import html.parser
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import InputError
from ..outputs import path_text
from . import columns as C

#: Rows handed to validation at a time; bounds memory for 10-million-row response files.
CHUNK_ROWS = 200_000
ENCODINGS = ("utf-8-sig", "gb18030")
#: How far down a sheet the header may be (title, unit, date and notes lines above it).
HEADER_SEARCH_ROWS = 30
#: A first cell starting with one of these marks a line that is not a record.
SUMMARY_WORDS = ("合计", "小计", "总计", "共计", "备注", "说明", "注：", "注:", "制表", "填表人", "审核人", "负责人", "签字")
#: Uncompressed size an xlsx may expand to; beyond it the file is refused as a zip bomb.
MAX_XLSX_UNCOMPRESSED = 2 << 30
#: Workbooks below this size are opened fully (merged cells known); larger ones are streamed.
FULL_LOAD_BYTES = 8 << 20

# Full-width ASCII (０-９, Ａ-Ｚ, ａ-ｚ, punctuation) to ASCII; ideographic space and NBSP to a
# space (trimmed later); zero-width characters and stray BOMs removed.
_FOLD = {**{0xFF01 + i: 0x21 + i for i in range(94)}, 0x3000: 0x20, 0xA0: 0x20, 0x200B: None, 0xFEFF: None}
_ODD = re.compile("[\uff01-\uff5e\u3000\u00a0\u200b\ufeff]")


def fold_text(s: str) -> str:
    """Full-width letters and digits as ASCII, NBSP as a space, zero-width characters gone."""
    return s.translate(_FOLD) if _ODD.search(s) else s


def column_letter(k: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names column ``k``."""
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class RowNote:
    """A row (or run of rows) not handed to validation, and why; ``action`` is ``skipped``."""

    sheet: str
    row: int
    text: str
    reason: str


@dataclass
class SheetReport:
    """How one sheet (a CSV file is one sheet named ``""``) was understood.

    Attributes:
        name: the sheet's name.
        state: ``read`` | ``hidden`` | ``other header`` | ``no header`` | ``empty`` | ``not selected``.
        header_row: spreadsheet row of the (last) header row, 0 when none was found.
        header_rows: 1, or 2 for a group title over the column titles.
        headers: the header as read (merged two-row headers combined).
        rows_read: data rows handed to validation.
        rows_skipped: rows not handed over (title, blank, 合计 ... lines), each in ``notes``.
        rows_rejected: rows validation rejected (filled in by :mod:`.load`).
        merged_filled: cells filled from a merged range.
    """

    name: str
    state: str = "read"
    header_row: int = 0
    header_rows: int = 0
    headers: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    merged_filled: int = 0


@dataclass
class FileLayout:
    """How one file was understood: format, encoding, sheets, header and column mapping."""

    path: str
    format: str = ""
    encoding: str = ""
    sheets: list[SheetReport] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    unknown_headers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def sheet(self, name: str) -> SheetReport:
        return next(s for s in self.sheets if s.name == name)

    def location(self, sheet: str, row: int, col: int | None = None) -> str:
        """``roster.xlsx[第二批]!A17``: the place an auditor opens to see a problem."""
        name = Path(self.path).name
        cell = f"{column_letter(col) if col is not None else ''}{row}"
        return f"{name}[{sheet}]!{cell}" if sheet else f"{name}!{cell}"


@dataclass
class RawChunk:
    """A block of records from one sheet, column-major: ``columns[k][i]`` is field ``k`` of row ``numbers[i]``.

    Columns are in the order of the table's header (the first sheet read); ``col_index[k]``
    is where column ``k`` sits on this sheet. ``numeric[k]`` (only for columns that had any)
    marks cells typed as numbers in the spreadsheet. Rows whose number of fields does not
    match the header are in ``malformed`` as (row number, raw text, number of fields); rows
    skipped on purpose are in ``skipped``.
    """

    numbers: np.ndarray
    columns: list[list[str]]
    malformed: list[tuple[int, str, int]] = field(default_factory=list)
    sheet: str = ""
    numeric: dict[int, np.ndarray] = field(default_factory=dict)
    skipped: list[RowNote] = field(default_factory=list)
    col_index: list[int] | None = None


# -- sniffing and encodings ----------------------------------------------------------------------

def sniff_format(path: Path) -> str:
    """``xlsx`` | ``xls`` | ``html`` | ``csv`` from the file's bytes; a ``.xls`` may be any of them."""
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    probe = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if probe.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "xml2003"  # "XML Spreadsheet 2003", which some systems save as .xls
    if probe.startswith((b"\xff\xfe", b"\xfe\xff")):
        probe = head.decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n").lower().encode()
    if probe.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<?xml", b"<head")) or (
            probe.startswith(b"<") and b"<table" in head.lower()):
        return "html"
    return "csv"


def detect_encoding(path: Path) -> str:
    """The first of UTF-8 / GB18030 that decodes the whole file, checked in 1 MB pieces.

    UTF-16 with a BOM (Excel's "Unicode text" export) is accepted; without a BOM it cannot be
    told from binary and is refused.
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            with open(path, encoding="utf-16") as fh:
                while fh.read(1 << 20):
                    pass
            return "utf-16"
        except UnicodeError:
            raise InputError("file looks like UTF-16 but does not decode; save it as UTF-8 or GBK CSV", path=path) from None
    if b"\x00" in head:
        raise InputError("binary content: not a CSV, XLSX or XLS file (or UTF-16 text without a byte-order mark); "
                         "save it as XLSX, or as UTF-8 or GBK CSV", path=path)
    for enc in ENCODINGS:
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while block := fh.read(1 << 20):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    # One damaged byte deep in a 100,000-row export should be findable, not just "cannot decode".
    raise InputError(f"cannot decode the file as {' or '.join(_where_undecodable(path, e) for e in ENCODINGS)}; "
                     "fix or re-export those lines, and save it as UTF-8 CSV", path=path)


def _where_undecodable(path: Path, enc: str) -> str:
    """``UTF-8 (row 5012, column 7: byte 0xB3)``: the first line and character ``enc`` cannot decode.

    Line by line, only once the whole file failed: slower than the block check, and only on the way out.
    """
    name = {"utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030"}.get(enc, enc)
    with open(path, "rb") as fh:
        for row, line in enumerate(fh, start=1):
            try:
                line.decode(enc)
            except UnicodeDecodeError as exc:
                column = len(line[:exc.start].decode(enc, errors="replace")) + 1
                return f"{name} (row {row}, column {column}: byte 0x{line[exc.start:exc.start + 1].hex().upper()})"
    return f"{name} (the last line ends inside a character)"


def _cell_text(v: object, fold: bool = True) -> str:
    # Excel gives typed cells; we want the text a clerk would see, not float artefacts.
    # ``fold=False`` keeps prose as typed (a case summary's full-width ，：（）), for readers of
    # free text rather than codes and numbers.
    if v is None:
        return ""
    if isinstance(v, str):
        return fold_text(v) if fold else v
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)
        if v.is_integer():
            return str(int(v))
        return repr(round(v, 10)).rstrip("0").rstrip(".") if "e" not in repr(v) else repr(v)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, timedelta):
        return str(v)
    return fold_text(str(v)) if fold else str(v)


_ZEROS = re.compile(r"^0{2,}$")


def _typed_cell(v: object, number_format: str | None = None) -> tuple[str, bool]:
    """(text, typed as a number). A number formatted ``000`` shows its zeros, so it keeps them."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        text = _cell_text(v)
        if number_format and _ZEROS.match(number_format) and text.isdigit():
            text = text.zfill(len(number_format))
        return text, True
    return _cell_text(v), False


# -- one sheet = rows of (text, typed-as-number) -------------------------------------------------

@dataclass
class _Sheet:
    name: str
    hidden: bool
    rows: Callable[[], Iterator[tuple[int, list[str], list[bool]]]]  # callable again for a second pass
    merged_filled: int = 0


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _fill_merged(grid: dict[tuple[int, int], object], ranges) -> int:
    """Copy each merged range's top-left value into its other cells; return how many were filled."""
    n = 0
    for lo_r, lo_c, hi_r, hi_c in ranges:
        v = grid.get((lo_r, lo_c))
        if v is None or (hi_r - lo_r + 1) * (hi_c - lo_c + 1) > 1_000_000:
            continue  # a whole-column merge is formatting, not data
        for r in range(lo_r, hi_r + 1):
            for c in range(lo_c, hi_c + 1):
                if (r, c) != (lo_r, lo_c):
                    grid[(r, c)] = v
                    n += 1
    return n


def _xlsx_sheets(path: Path) -> tuple[list[_Sheet], Callable[[], None]]:
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > MAX_XLSX_UNCOMPRESSED:
                raise InputError(f"workbook would expand to {total / 2**30:.1f} GB; refused as a possible zip bomb",
                                 path=path)
    except zipfile.BadZipFile as exc:
        raise InputError(f"cannot open as an Excel workbook: {exc}", path=path) from exc
    from openpyxl import load_workbook

    small = path.stat().st_size <= FULL_LOAD_BYTES
    fh = open(path, "rb")  # a file object: openpyxl would refuse a workbook by its name (.xls, .csv)
    try:
        wb = load_workbook(fh, read_only=not small, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        fh.close()
        raise InputError(f"cannot open as an Excel workbook: {type(exc).__name__}: {str(exc)[:200]}", path=path) from exc
    sheets = []
    for ws in wb.worksheets:
        if not hasattr(ws, "iter_rows"):
            continue  # a chartsheet has no cells
        hidden = getattr(ws, "sheet_state", "visible") != "visible"

        if small:
            def rows(ws=ws):
                # Merged ranges: the value sits in the top-left cell; a clerk reads it in every cell.
                grid: dict[tuple[int, int], object] = {}
                fmts: dict[tuple[int, int], str] = {}
                for row in ws.iter_rows():
                    for cell in row:
                        if cell.value is not None:
                            grid[(cell.row, cell.column)] = cell.value
                            fmts[(cell.row, cell.column)] = cell.number_format
                ranges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
                filled = _fill_merged(grid, ranges)
                _fill_merged(fmts, ranges)
                sheet_of[ws.title].merged_filled = filled
                if not grid:
                    return
                max_r = max(r for r, _ in grid)
                max_c = max(c for _, c in grid)
                for r in range(1, max_r + 1):
                    texts, nums = [], []
                    for c in range(1, max_c + 1):
                        t, n = _typed_cell(grid.get((r, c)), fmts.get((r, c)))
                        texts.append(t)
                        nums.append(n)
                    yield r, texts, nums
        else:
            def rows(ws=ws):
                for r, rec in enumerate(ws.iter_rows(values_only=True), start=1):
                    cells = [_typed_cell(v) for v in rec]
                    yield r, [t for t, _ in cells], [n for _, n in cells]
        sheets.append(_Sheet(ws.title, hidden, rows))
    sheet_of = {s.name: s for s in sheets}

    def close():
        wb.close()
        fh.close()
    return sheets, close


def _xls_sheets(path: Path) -> tuple[list[_Sheet], Callable[[], None]]:
    import xlrd

    try:
        log = io.StringIO()  # xlrd prints warnings about damaged files; the error below says what matters
        try:
            book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=False, logfile=log)
        except NotImplementedError:  # formatting info is not implemented for every BIFF version
            book = xlrd.open_workbook(str(path), on_demand=False, logfile=log)
    except Exception as exc:  # noqa: BLE001 - xlrd raises many types for a damaged file
        raise InputError(f"cannot open as a legacy Excel .xls workbook: {type(exc).__name__}: {str(exc)[:200]}",
                         path=path) from exc
    sheets = []
    for sh in book.sheets():
        def rows(sh=sh, out=None):
            grid: dict[tuple[int, int], object] = {}
            kinds: dict[tuple[int, int], bool] = {}
            fmts: dict[tuple[int, int], str] = {}
            for r in range(sh.nrows):
                for c in range(sh.ncols):
                    cell = sh.cell(r, c)
                    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        continue
                    v: object = cell.value
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        try:
                            v = xlrd.xldate_as_datetime(cell.value, book.datemode)
                        except Exception:  # noqa: BLE001 - a date out of range is shown as its number
                            v = cell.value
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        v = bool(cell.value)
                    elif cell.ctype == xlrd.XL_CELL_ERROR:
                        v = "#ERROR"
                    grid[(r + 1, c + 1)] = v
                    kinds[(r + 1, c + 1)] = cell.ctype == xlrd.XL_CELL_NUMBER
                    if book.formatting_info and cell.ctype == xlrd.XL_CELL_NUMBER:
                        try:
                            fmts[(r + 1, c + 1)] = book.format_map[book.xf_list[cell.xf_index].format_key].format_str
                        except (IndexError, KeyError):
                            pass
            ranges = [(r0 + 1, c0 + 1, r1, c1) for r0, r1, c0, c1 in getattr(sh, "merged_cells", [])]
            sheet_of[sh.name].merged_filled = _fill_merged(grid, ranges)
            for r in range(1, sh.nrows + 1):
                texts, nums = [], []
                for c in range(1, sh.ncols + 1):
                    v = grid.get((r, c))
                    t, n = _typed_cell(v, fmts.get((r, c)))
                    texts.append(t)
                    nums.append(n and kinds.get((r, c), True))
                yield r, texts, nums
        sheets.append(_Sheet(sh.name, getattr(sh, "visibility", 0) != 0, rows))
    sheet_of = {s.name: s for s in sheets}
    return sheets, book.release_resources


class _TableParser(html.parser.HTMLParser):
    """Rows of the first ``<table>`` in an HTML "xls" export; colspan/rowspan read like merged cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)
        self._down: dict[int, tuple[int, str]] = {}  # column -> (rows left, text) from rowspan
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables += 1
        elif tag == "tr" and self.tables:
            self._end_row()
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._end_cell()
            self._cell = []

            def span(k):
                try:
                    return max(1, min(int(a.get(k) or 1), 1000))
                except ValueError:
                    return 1
            self._span = (span("colspan"), span("rowspan"))
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def _fill_down(self):
        while len(self._row) in self._down:
            k = len(self._row)
            left, text = self._down.pop(k)
            self._row.append(text)
            if left > 1:
                self._down[k] = (left - 1, text)

    def _end_cell(self):
        if self._cell is None or self._row is None:
            return
        self._fill_down()
        text = fold_text(" ".join("".join(self._cell).split()))
        cols, rows = self._span
        for _ in range(cols):
            if rows > 1:
                self._down[len(self._row)] = (rows - 1, text)
            self._row.append(text)
        self._cell = None

    def _end_row(self):
        self._end_cell()
        if self._row is not None:
            self._fill_down()
            while self._down and max(self._down) >= len(self._row):
                self._row.append("")
                self._fill_down()
            self.rows.append(self._row)
        self._row = None


def _html_sheets(path: Path) -> tuple[list[_Sheet], Callable[[], None]]:
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="replace")
    else:
        m = re.search(rb"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", raw[:4096])
        declared = m.group(1).decode("ascii").lower() if m else ""
        text = None
        for enc in ([declared] if declared else []) + ["utf-8-sig", "gb18030"]:
            try:
                text = raw.decode("gb18030" if enc in ("gbk", "gb2312") else enc)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        if text is None:
            raise InputError("HTML table export: cannot decode as UTF-8 or GBK", path=path)
    p = _TableParser()
    try:
        p.feed(text)
        p.close()
    except Exception as exc:  # noqa: BLE001 - html.parser is lenient; anything left is the file's fault
        raise InputError(f"cannot parse the HTML table: {exc}", path=path) from exc
    if not p.tables:
        raise InputError("file is HTML but holds no <table>; export the records as CSV or XLSX", path=path)
    rows = p.rows

    def gen():
        for r, cells in enumerate(rows, start=1):
            yield r, cells, [False] * len(cells)
    return [_Sheet("", False, gen)], lambda: None


_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
_X = "{urn:schemas-microsoft-com:office:excel}"


def _xml2003_sheets(path: Path) -> tuple[list[_Sheet], Callable[[], None]]:
    """Excel's "XML Spreadsheet 2003": Worksheet / Table / Row / Cell / Data, with ss:Index gaps and merges."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()  # expat refuses entity bombs; no external entities are fetched
    except (ET.ParseError, ValueError) as exc:
        raise InputError(f"cannot parse the XML spreadsheet: {exc}", path=path) from exc
    sheets = []
    for ws in root.iter(f"{_SS}Worksheet"):
        name = ws.get(f"{_SS}Name", "")
        opts = ws.find(f"{_X}WorksheetOptions")
        vis = opts.find(f"{_X}Visible") if opts is not None else None
        hidden = vis is not None and (vis.text or "").strip() in ("SheetHidden", "SheetVeryHidden")
        grid: dict[tuple[int, int], object] = {}
        ranges = []
        r = 0
        table = ws.find(f"{_SS}Table")
        for row in (table.iter(f"{_SS}Row") if table is not None else []):
            r = _xml_index(row, r + 1)
            c = 0
            for cell in row.iter(f"{_SS}Cell"):
                c = _xml_index(cell, c + 1)
                data = cell.find(f"{_SS}Data")
                if data is not None:
                    text = "".join(data.itertext())
                    kind = data.get(f"{_SS}Type", "String")
                    v: object = text
                    if kind == "Number":
                        try:
                            v = float(text)
                        except ValueError:
                            v = text
                    elif kind == "DateTime":
                        v = text.replace("T", " ").removesuffix(".000")
                    grid[(r, c)] = v
                across, down = _xml_int(cell.get(f"{_SS}MergeAcross")), _xml_int(cell.get(f"{_SS}MergeDown"))
                if across or down:
                    ranges.append((r, c, r + down, c + across))
                c += across

        def rows(grid=grid, ranges=ranges, name=name):
            g = dict(grid)
            sheet_of[name].merged_filled = _fill_merged(g, ranges)
            if not g:
                return
            max_r, max_c = max(k[0] for k in g), max(k[1] for k in g)
            for rr in range(1, max_r + 1):
                cells = [_typed_cell(g.get((rr, cc))) for cc in range(1, max_c + 1)]
                yield rr, [t for t, _ in cells], [n for _, n in cells]
        sheets.append(_Sheet(name, hidden, rows))
    sheet_of = {s.name: s for s in sheets}
    if not sheets:
        raise InputError("XML spreadsheet without a worksheet", path=path)
    return sheets, lambda: None


def _xml_int(v: str | None) -> int:
    try:
        return max(0, min(int(v or 0), 100_000))
    except ValueError:
        return 0


def _xml_index(el, default: int) -> int:
    i = _xml_int(el.get(f"{_SS}Index"))
    return i if i >= default else default


# -- the header ----------------------------------------------------------------------------------

def _score(spec: C.TableSpec, cells: list[str]) -> int:
    found, _ = C.header_map(spec, cells)
    return len(found)


def find_header(spec: C.TableSpec, rows: list[list[str]]) -> tuple[int, int, list[str]]:
    """(index of the first header row in ``rows``, 1 or 2 header rows, the header cells).

    The header is the row naming most known columns. A two-row header (a group title such as
    考生信息 over 姓名 / 身份证号, with the other titles merged down both rows) is combined column
    by column, taking whichever of the two rows names a known column. ``(-1, 0, [])`` when no
    row names any.
    """
    best = (0, -1, 0, [])  # score, index, rows, header
    lookup = C.header_lookup(spec)
    for i, cells in enumerate(rows):
        s = _score(spec, cells)
        if s > best[0]:
            best = (s, i, 1, cells)
        if i + 1 < len(rows) and s:
            nxt = rows[i + 1]
            width = max(len(cells), len(nxt))
            a = cells + [""] * (width - len(cells))
            b = nxt + [""] * (width - len(nxt))
            combined = [y if C.normalise_header(y) in lookup else x if C.normalise_header(x) in lookup else (y or x)
                        for x, y in zip(a, b)]
            s2 = _score(spec, combined)
            if s2 > best[0] and s2 > s and s2 > _score(spec, nxt):
                best = (s2, i, 2, combined)
    return best[1], best[2], [h.strip() for h in best[3]]


def _is_summary(cells: list[str]) -> bool:
    first = next((c.strip() for c in cells if c.strip()), "")
    return first.replace(" ", "").startswith(SUMMARY_WORDS)


def _note_text(cells: list[str]) -> str:
    shown: list[str] = []
    for c in cells:  # a merged title fills every cell of its row; say it once
        if c.strip() and (not shown or shown[-1] != c.strip()):
            shown.append(c.strip())
    return " | ".join(shown)[:80]


# -- the table: every sheet with the same header -------------------------------------------------

def iter_chunks(path: str | Path, chunk_rows: int = CHUNK_ROWS, *, spec: C.TableSpec | None = None,
                sheet: str | None = None) -> tuple[list[str], Iterator[RawChunk], FileLayout]:
    """Open a records file; return its header, an iterator of :class:`RawChunk` and its :class:`FileLayout`.

    ``spec`` says which columns to look for when finding the header (without it the first
    row is the header). ``sheet`` narrows a workbook to one sheet. The layout's per-sheet
    counts are complete once the iterator is exhausted.

    Raises:
        InputError: missing, empty, unreadable file, no header, or ``sheet`` not in the workbook.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path=path)
    fmt = sniff_format(path)
    layout = FileLayout(path_text(path), fmt)
    if fmt == "csv" and path.suffix.lower() in (".xls", ".xlsx", ".xlsm", ".et"):
        layout.notes.append(f"named {path.suffix} but holds text: read as CSV")
    elif fmt == "html":
        layout.notes.append(f"named {path.suffix or '(no suffix)'} but holds an HTML table: read as HTML")
    elif fmt == "xml2003" and path.suffix.lower() != ".xml":
        layout.notes.append(f"named {path.suffix or '(no suffix)'} but is an XML Spreadsheet 2003: read as that")
    elif fmt in ("xls", "xlsx") and path.suffix.lower() not in (".xls", ".xlsx", ".xlsm", ".et"):
        layout.notes.append(f"named {path.suffix or '(no suffix)'} but is an {fmt} workbook: read as {fmt}")
    if fmt == "csv":
        if sheet:
            raise InputError(f"--sheet {sheet!r}: a CSV file has no sheets", path=path)
        return _csv_chunks(path, chunk_rows, spec, layout)
    opener = {"xlsx": _xlsx_sheets, "xls": _xls_sheets, "html": _html_sheets, "xml2003": _xml2003_sheets}[fmt]
    sheets, close = opener(path)
    try:
        header, chunks = _workbook_chunks(path, sheets, spec, sheet, chunk_rows, layout)
    except BaseException:
        close()
        raise

    def closing():
        try:
            yield from chunks
        finally:
            close()
    return header, closing(), layout


def _workbook_chunks(path: Path, sheets: list[_Sheet], spec: C.TableSpec | None, only: str | None, chunk_rows: int,
                     layout: FileLayout):
    if only is not None and only not in [s.name for s in sheets]:
        raise InputError(f"no sheet named {only!r}; sheets are {[s.name for s in sheets]}", path=path)
    # First pass: the header of every sheet, from its first rows only.
    plans = []
    for sh in sheets:
        rep = SheetReport(sh.name)
        layout.sheets.append(rep)
        if only is not None and sh.name != only:
            rep.state = "not selected"
            continue
        if sh.hidden and only is None:
            rep.state = "hidden"
        head: list[tuple[int, list[str], list[bool]]] = []
        for item in sh.rows():
            head.append(item)
            if len(head) >= HEADER_SEARCH_ROWS + 1:
                break
        if not any(not _blank(c) for _, c, _ in head):
            rep.state = "empty" if rep.state == "read" else rep.state
            continue
        texts = [c for _, c, _ in head]
        if spec is None:
            i = next(k for k, c in enumerate(texts) if not _blank(c))
            n_rows, header = 1, [c.strip() for c in texts[i]]
        else:
            i, n_rows, header = find_header(spec, texts)
        if i < 0:
            rep.state = "no header" if rep.state == "read" else rep.state
            continue
        rep.header_row, rep.header_rows, rep.headers = head[i + n_rows - 1][0], n_rows, header
        plans.append((sh, rep, i, n_rows))

    def fits(header):
        if spec is None:
            return True
        found, _ = C.header_map(spec, header)
        return all(c.name in found for c in spec.required) and all(any(g in found for g in grp) for grp in spec.one_of)

    master = next(((sh, rep, i, n) for sh, rep, i, n in plans if rep.state == "read" and fits(rep.headers)), None)
    if master is None:
        hidden = [rep.name for _, rep, _, _ in plans if rep.state == "hidden" and fits(rep.headers)]
        if hidden:
            raise InputError(f"the records are only on hidden sheet(s) {hidden}: unhide the sheet in Excel "
                             f"(or check it with `examaudit records check --sheet {hidden[0]}`)", path=path)
        shown = next((p for p in plans if p[1].state == "read"), None) or (plans[0] if plans else None)
        if shown is None:
            states = ", ".join(f"{s.name or 'sheet'}: {s.state}" for s in layout.sheets)
            raise InputError(f"no readable header row ({states})", path=path)
        header = shown[1].headers
        where = f" on sheet {shown[0].name!r}" if shown[0].name else ""
        if spec is None:
            raise InputError(f"no header row{where}", path=path)
        found, _ = C.header_map(spec, header)
        missing = next((c for c in spec.required if c.name not in found), None)
        if missing is not None:
            raise InputError(f"missing required column '{missing.name}' ({missing.zh}){where}; headers are {header}",
                             path=path)
        names = " or ".join(f"'{g}' ({spec.column(g).zh})" for grp in spec.one_of for g in grp)
        raise InputError(f"missing required column: needs {names}{where}", path=path)
    header = master[1].headers
    width = len(header)
    base_map = C.header_map(spec, header)[0] if spec is not None else {h: k for k, h in enumerate(header)}
    readers = []
    for sh, rep, i, n in plans:
        if rep.state != "read":
            continue
        if sh is master[0]:
            readers.append((sh, rep, i, n, list(range(width))))
            continue
        found = C.header_map(spec, rep.headers)[0] if spec is not None else None
        if spec is None or set(found) != set(base_map):
            rep.state = "other header"
            continue
        # same columns, perhaps in another order: map the master's positions onto this sheet's
        index = [-1] * width
        for name, k in base_map.items():
            index[k] = found[name]
        readers.append((sh, rep, i, n, index))
    if spec is not None:
        layout.mapping = {name: header[k] for name, k in sorted(base_map.items(), key=lambda t: t[1])}
        layout.unknown_headers = [h for h in C.header_map(spec, header)[1] if h]
    layout.headers = header

    def chunks():
        for s in layout.sheets:
            if s.state in ("hidden", "other header", "no header"):
                sh = next(x for x in sheets if x.name == s.name)
                n = sum(1 for _, c, _ in sh.rows() if not _blank(c))
                why = {"hidden": "hidden sheet", "other header": "sheet with another header",
                       "no header": "sheet without a recognisable header"}[s.state]
                s.rows_skipped = n
                if n:
                    yield RawChunk(np.empty(0, dtype=np.int64), [[] for _ in range(width)], sheet=s.name,
                                   skipped=[RowNote(s.name, 1, f"{n} non-empty rows", f"{why}: not read")])
        for sh, rep, i, n, index in readers:
            yield from _sheet_chunks(sh, rep, i, n, index, width, chunk_rows, spec)
    return header, chunks()


def _sheet_chunks(sh: _Sheet, rep: SheetReport, first: int, n_header: int, index: list[int], width: int,
                  chunk_rows: int, spec: C.TableSpec | None) -> Iterator[RawChunk]:
    rows: list[list[str]] = []
    nums: list[list[bool]] = []
    numbers: list[int] = []
    notes: list[RowNote] = []
    malformed: list[tuple[int, str, int]] = []
    blank_run: list[int] = []
    above: list[tuple[int, list[str]]] = []
    seen_width = max(index) + 1 if index else width

    def flush_blank():
        if blank_run:
            lo, hi = blank_run[0], blank_run[-1]
            notes.append(RowNote(sh.name, lo, f"rows {lo}-{hi}" if hi > lo else f"row {lo}", f"{len(blank_run)} blank row(s) skipped"))
            rep.rows_skipped += len(blank_run)
            blank_run.clear()

    def emit():
        cols = [[r[k] for r in rows] for k in range(width)]
        numeric = {}
        for k in range(width):
            m = np.fromiter((f[k] for f in nums), dtype=bool, count=len(nums))
            if m.any():
                numeric[k] = m
        chunk = RawChunk(np.asarray(numbers, dtype=np.int64), cols, list(malformed), sh.name, numeric, list(notes), index)
        rows.clear(), nums.clear(), numbers.clear(), notes.clear(), malformed.clear()
        return chunk

    for pos, (r, cells, numeric) in enumerate(sh.rows()):
        if pos < first:
            if not _blank(cells):
                above.append((r, cells))
            continue
        if pos < first + n_header:
            if pos == first and above:
                lo, hi = above[0][0], above[-1][0]
                notes.append(RowNote(sh.name, lo, _note_text(above[0][1]),
                                     f"{len(above)} line(s) above the header (title, unit, date) skipped"))
                rep.rows_skipped += len(above)
            continue
        if _blank(cells):
            blank_run.append(r)
            continue
        flush_blank()
        if spec is not None and _is_summary(cells):
            notes.append(RowNote(sh.name, r, _note_text(cells), "summary or note line (合计/小计/备注 ...) skipped"))
            rep.rows_skipped += 1
            continue
        if len(cells) > seen_width and any(c.strip() for c in cells[seen_width:]):
            # data beyond the header's last column: a shifted row, not something to guess at
            malformed.append((r, ",".join(cells)[:80], len(cells)))
            continue
        pad = seen_width - len(cells)
        if pad > 0:
            cells = cells + [""] * pad
            numeric = numeric + [False] * pad
        rows.append([cells[k] if k >= 0 else "" for k in index])
        nums.append([numeric[k] if k >= 0 else False for k in index])
        numbers.append(r)
        rep.rows_read += 1
        if len(rows) >= chunk_rows:
            yield emit()
    flush_blank()
    rep.merged_filled = sh.merged_filled
    if rows or notes or malformed:
        yield emit()


# -- CSV: a fast path for the ten-million-row response files -------------------------------------

def _shape(records: list[list[str]], numbers: list[int], width: int) -> RawChunk:
    """Column-major chunk from parsed rows; blank rows dropped, wrong widths set aside."""
    good_rows, good_numbers, malformed = [], [], []
    for n, rec in zip(numbers, records):
        if not rec or not any(x.strip() for x in rec):
            malformed.append((n, "\x00blank", 0))
            continue
        if len(rec) > width and not any(x.strip() for x in rec[width:]):
            rec = rec[:width]  # trailing empty cells, as spreadsheets write them
        if len(rec) < width and rec and any(x.strip() for x in rec) and _is_summary(rec):
            malformed.append((n, "\x00summary", 0))
            continue
        if len(rec) == width:
            good_rows.append(rec)
            good_numbers.append(n)
        else:
            malformed.append((n, ",".join(rec)[:80], len(rec)))
    cols = [list(c) for c in zip(*good_rows)] if good_rows else [[] for _ in range(width)]
    return RawChunk(np.asarray(good_numbers, dtype=np.int64), cols, malformed)


def _fold_columns(chunk: RawChunk, text: str) -> RawChunk:
    if _ODD.search(text):
        chunk.columns = [[fold_text(s) for s in col] for col in chunk.columns]
    return chunk


_NOTE_WORDS = tuple({w[:2] for w in SUMMARY_WORDS})


def _summary_notes(chunk: RawChunk, text: str, rep: SheetReport) -> RawChunk:
    """Move blank and 合计/备注 lines out of the records into notes; count rows read and skipped."""
    blanks = [int(m[0]) for m in chunk.malformed if m[1] == "\x00blank"]
    marked = [int(m[0]) for m in chunk.malformed if m[1] == "\x00summary"]
    if blanks or marked:
        chunk.malformed = [m for m in chunk.malformed if m[1] not in ("\x00blank", "\x00summary")]
    for n in marked:
        chunk.skipped.append(RowNote("", n, "", "summary or note line (合计/小计/备注 ...) skipped"))
    if blanks:
        runs = [[blanks[0]]]
        for n in blanks[1:]:
            (runs[-1].append(n) if n == runs[-1][-1] + 1 else runs.append([n]))
        for run in runs:
            lo, hi = run[0], run[-1]
            chunk.skipped.append(RowNote("", lo, f"rows {lo}-{hi}" if hi > lo else f"row {lo}",
                                         f"{len(run)} blank row(s) skipped"))
        rep.rows_skipped += len(blanks)
    if len(chunk.numbers) and any(w in text for w in _NOTE_WORDS):
        rows = [[c[i] for c in chunk.columns] for i in range(len(chunk.numbers))]
        summary = np.fromiter((_is_summary(r) for r in rows), dtype=bool, count=len(rows))
        if summary.any():
            for i in np.flatnonzero(summary):
                chunk.skipped.append(RowNote("", int(chunk.numbers[i]), _note_text(rows[i]),
                                             "summary or note line (合计/小计/备注 ...) skipped"))
                marked.append(i)
            keep = ~summary
            chunk.numbers = chunk.numbers[keep]
            chunk.columns = [[v for v, k in zip(c, keep) if k] for c in chunk.columns]
    rep.rows_read += len(chunk.numbers)
    rep.rows_skipped += len(marked)
    return chunk


def _csv_chunks(path: Path, chunk_rows: int, spec: C.TableSpec | None, layout: FileLayout):
    enc = detect_encoding(path)
    layout.encoding = "gbk" if enc == "gb18030" else enc
    rep = SheetReport("")
    layout.sheets.append(rep)
    fh = open(path, encoding=enc, newline="")
    try:
        sample = fh.read(8192)
        fh.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        head_lines = []
        for _ in range(HEADER_SEARCH_ROWS + 1):
            line = fh.readline()
            if not line:
                break
            head_lines.append(line)
        reader = csv.reader(head_lines, delimiter=delimiter)
        records, ends = [], []
        try:
            for rec in reader:
                records.append([fold_text(x) for x in rec])
                ends.append(reader.line_num)
        except csv.Error:
            pass  # a quoted field running past the sample; the header is above it
        if spec is None:
            i, n_header, header = (0, 1, [h.strip() for h in records[0]]) if records else (-1, 0, [])
        else:
            i, n_header, header = find_header(spec, records)
            if i < 0:
                i, n_header, header = (0, 1, [h.strip() for h in records[0]]) if records else (-1, 0, [])
    except (csv.Error, UnicodeError) as exc:
        fh.close()
        raise InputError(f"cannot parse as CSV: {exc}", path=path) from exc
    if i < 0 or not any(h.strip() for h in header):
        fh.close()
        raise InputError("no readable header row", path=path)
    header_end = ends[i + n_header - 1]  # physical lines up to the end of the header
    j = next((k for k in range(i) if any(x.strip() for x in records[k])), 0)
    first_line = ends[j - 1] + 1 if j > 0 else 1  # where the first line above the header starts
    rep.header_row, rep.header_rows, rep.headers = header_end, n_header, header
    layout.headers = header
    if spec is not None:
        found, unknown = C.header_map(spec, header)
        layout.mapping = {name: header[k] for name, k in sorted(found.items(), key=lambda t: t[1])}
        layout.unknown_headers = [h for h in unknown if h]
    above = [r for r in records[:i] if any(x.strip() for x in r)]
    fh.seek(0)
    for _ in range(header_end):
        fh.readline()
    width = len(header)
    line_no0 = header_end + 1

    def first_notes() -> list[RowNote]:
        if not above:
            return []
        rep.rows_skipped += len(above)
        return [RowNote("", first_line, _note_text(above[0]), f"{len(above)} line(s) above the header (title, unit, date) skipped")]

    def slow(lines_then_file, first: int):
        """The csv module, for quoted fields (which may span lines)."""
        reader = csv.reader(lines_then_file, delimiter=delimiter)
        rows, numbers = [], []
        try:
            for rec in reader:
                rows.append(rec)
                numbers.append(first + reader.line_num - 1)
                if len(rows) >= chunk_rows:
                    yield _summary_notes(_fold_columns(_shape(rows, numbers, width), (t := "".join(map("".join, rows)))), t, rep)
                    rows, numbers = [], []
        except csv.Error as exc:
            raise InputError(f"row {first + reader.line_num - 1}: cannot parse as CSV: {exc}", path=path) from exc
        if rows:
            yield _summary_notes(_fold_columns(_shape(rows, numbers, width), (t := "".join(map("".join, rows)))), t, rep)

    def chunks():
        # Fast path: a block without quotes is split by str.split in C, never row by row.
        # Only rows with the wrong number of delimiters go through the csv module.
        line_no = line_no0
        empty_line = delimiter * (width - 1)
        pending = first_notes()
        with fh:
            while lines := fh.readlines(chunk_rows * 48):
                text = "".join(lines)
                if '"' in text:
                    chunk_iter = slow(itertools.chain(lines, fh), line_no)
                    for k, chunk in enumerate(chunk_iter):
                        if k == 0 and pending:
                            chunk.skipped[:0] = pending
                            pending = []
                        yield chunk
                    return
                if "\r" in text:
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                parts = text.split("\n")
                if parts and parts[-1] == "":
                    parts.pop()
                numbers = np.arange(line_no, line_no + len(parts), dtype=np.int64)
                line_no += len(parts)
                seps = np.fromiter(map(str.count, parts, itertools.repeat(delimiter)), dtype=np.int64, count=len(parts))
                good = seps == width - 1
                if width > 1 and f"\n{empty_line}\n" in f"\n{text}":  # rows of empty cells are skipped
                    good &= np.fromiter((bool(p.strip(delimiter + " ")) for p in parts), dtype=bool, count=len(parts))
                if good.all():
                    fields = delimiter.join(parts).split(delimiter)
                    chunk = RawChunk(numbers, [fields[k::width] for k in range(width)])
                else:
                    keep = np.flatnonzero(good)
                    odd = np.flatnonzero(~good)
                    kept = [parts[i] for i in keep]
                    fields = delimiter.join(kept).split(delimiter) if kept else []
                    cols = [fields[k::width] for k in range(width)] if kept else [[] for _ in range(width)]
                    extra = _shape([next(csv.reader([parts[i]], delimiter=delimiter), []) for i in odd], list(numbers[odd]), width)
                    nums = np.concatenate([numbers[keep], extra.numbers])
                    cols = [a + b for a, b in zip(cols, extra.columns)]
                    order = np.argsort(nums, kind="stable")  # keep file order: "the first row wins"
                    chunk = RawChunk(nums[order], [[c[i] for i in order] for c in cols], extra.malformed)
                chunk = _summary_notes(_fold_columns(chunk, text), text, rep)
                if pending:
                    chunk.skipped[:0] = pending
                    pending = []
                yield chunk
        if pending:
            yield RawChunk(np.empty(0, dtype=np.int64), [[] for _ in range(width)], skipped=pending)

    return header, chunks(), layout
