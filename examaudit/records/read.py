"""Read CSV or XLSX records files as header + chunks of string rows, whatever the encoding.

Exports from provincial systems arrive as UTF-8 (with or without BOM) or GBK; Excel saves
"CSV" as GBK on Chinese Windows. We try UTF-8 first and GB18030 (a superset of GBK) second,
and refuse anything else with a message that says so instead of reading mojibake.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2.
Values are returned as strings; typing and validation happen in :mod:`.load`.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

import numpy as np
from ..errors import InputError

#: Rows handed to validation at a time; bounds memory for 10-million-row response files.
CHUNK_ROWS = 200_000
ENCODINGS = ("utf-8-sig", "gb18030")


def detect_encoding(path: Path) -> str:
    """The first of UTF-8 / GB18030 that decodes the whole file, checked in 1 MB pieces."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise InputError("file looks like UTF-16; save it as UTF-8 or GBK CSV", path=path)
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
    raise InputError("cannot decode the file as UTF-8 or GBK/GB18030; save it as UTF-8 CSV", path=path)


def _cell_text(v: object) -> str:
    # Excel gives typed cells; we want the text a clerk would see, not float artefacts.
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, time):
        return v.strftime("%H:%M:%S")
    return str(v)


@dataclass
class RawChunk:
    """A block of records, column-major: ``columns[k][i]`` is field ``k`` of row ``numbers[i]``.

    Rows whose number of fields does not match the header are not in ``columns``; they are in
    ``malformed`` as (row number, raw text, number of fields) for the validation report.
    """

    numbers: np.ndarray
    columns: list[list[str]]
    malformed: list[tuple[int, str, int]] = field(default_factory=list)


def iter_chunks(path: str | Path, chunk_rows: int = CHUNK_ROWS) -> tuple[list[str], Iterator[RawChunk]]:
    """Open a records file; return its header and an iterator of :class:`RawChunk`.

    Blank lines are skipped but still counted, so row numbers match what the auditor sees.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_chunks(path, chunk_rows)
    if suffix == ".xls":
        raise InputError("old .xls workbooks are not supported; save as .xlsx or CSV", path=path)
    return _csv_chunks(path, chunk_rows)


def _shape(records: list[list[str]], numbers: list[int], width: int) -> RawChunk:
    """Column-major chunk from parsed rows; blank rows dropped, wrong widths set aside."""
    good_rows, good_numbers, malformed = [], [], []
    for n, rec in zip(numbers, records):
        if not rec or not any(x.strip() for x in rec):
            continue
        if len(rec) > width and not any(x.strip() for x in rec[width:]):
            rec = rec[:width]  # trailing empty cells, as spreadsheets write them
        if len(rec) == width:
            good_rows.append(rec)
            good_numbers.append(n)
        else:
            malformed.append((n, ",".join(rec)[:80], len(rec)))
    cols = [list(c) for c in zip(*good_rows)] if good_rows else [[] for _ in range(width)]
    return RawChunk(np.asarray(good_numbers, dtype=np.int64), cols, malformed)


def _csv_chunks(path: Path, chunk_rows: int):
    enc = detect_encoding(path)
    fh = open(path, encoding=enc, newline="")
    try:
        sample = fh.read(8192)
        fh.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        header_line = fh.readline()
        header = next(csv.reader([header_line], delimiter=delimiter), None)
    except csv.Error as exc:
        fh.close()
        raise InputError(f"cannot parse as CSV: {exc}", path=path) from exc
    if not header or not any(h.strip() for h in header) or '"' in header_line and header_line.count('"') % 2:
        fh.close()
        raise InputError("no readable header row", path=path)
    width = len(header)

    def slow(lines_then_file, first_line: int):
        """The csv module, for quoted fields (which may span lines)."""
        reader = csv.reader(lines_then_file, delimiter=delimiter)
        rows, numbers = [], []
        try:
            for rec in reader:
                rows.append(rec)
                numbers.append(first_line + reader.line_num - 1)
                if len(rows) >= chunk_rows:
                    yield _shape(rows, numbers, width)
                    rows, numbers = [], []
        except csv.Error as exc:
            raise InputError(f"row {first_line + reader.line_num - 1}: cannot parse as CSV: {exc}", path=path) from exc
        if rows:
            yield _shape(rows, numbers, width)

    def chunks():
        # Fast path: a block without quotes is split by str.split in C, never row by row.
        # Only rows with the wrong number of delimiters go through the csv module.
        line_no = 2
        empty_line = delimiter * (width - 1)
        with fh:
            while lines := fh.readlines(chunk_rows * 48):
                text = "".join(lines)
                if '"' in text:
                    yield from slow(itertools.chain(lines, fh), line_no)
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
                    yield RawChunk(numbers, [fields[k::width] for k in range(width)])
                    continue
                keep = np.flatnonzero(good)
                odd = np.flatnonzero(~good)
                kept = [parts[i] for i in keep]
                fields = delimiter.join(kept).split(delimiter) if kept else []
                cols = [fields[k::width] for k in range(width)] if kept else [[] for _ in range(width)]
                extra = _shape([next(csv.reader([parts[i]], delimiter=delimiter), []) for i in odd], list(numbers[odd]), width)
                nums = np.concatenate([numbers[keep], extra.numbers])
                cols = [a + b for a, b in zip(cols, extra.columns)]
                order = np.argsort(nums, kind="stable")  # keep file order: "the first row wins"
                yield RawChunk(nums[order], [[c[i] for i in order] for c in cols], extra.malformed)

    return [h.strip() for h in header], chunks()


def _xlsx_chunks(path: Path, chunk_rows: int):
    try:
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged file
        raise InputError(f"cannot open as an Excel workbook: {exc}", path=path) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if not header or not any(h is not None and str(h).strip() for h in header):
        wb.close()
        raise InputError("no header row on the first sheet", path=path)

    width = len(header)

    def chunks():
        rows: list[list[str]] = []
        numbers: list[int] = []
        for n, rec in enumerate(it, start=2):
            if rec and any(v is not None and str(v).strip() for v in rec):
                cells = [_cell_text(v) for v in rec]
                # Excel drops trailing empty cells; an empty cell is not a malformed row.
                rows.append(cells + [""] * (width - len(cells)))
                numbers.append(n)
                if len(rows) >= chunk_rows:
                    yield _shape(rows, numbers, width)
                    rows, numbers = [], []
        if rows:
            yield _shape(rows, numbers, width)
        wb.close()

    return [_cell_text(h).strip() for h in header], chunks()
