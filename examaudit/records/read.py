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
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

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


def iter_chunks(path: str | Path, chunk_rows: int = CHUNK_ROWS) -> tuple[list[str], Iterator[tuple[list[int], list[list[str]]]]]:
    """Open a records file; return its header and an iterator of (row numbers, rows).

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


def _csv_chunks(path: Path, chunk_rows: int):
    enc = detect_encoding(path)
    fh = open(path, encoding=enc, newline="")
    try:
        sample = fh.read(8192)
        fh.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
    except csv.Error as exc:
        fh.close()
        raise InputError(f"cannot parse as CSV: {exc}", path=path) from exc
    if not header or not any(h.strip() for h in header):
        fh.close()
        raise InputError("no header row", path=path)

    def chunks():
        with fh:
            rows: list[list[str]] = []
            numbers: list[int] = []
            try:
                for rec in reader:
                    if rec and any(rec):
                        rows.append(rec)
                        numbers.append(reader.line_num)
                        if len(rows) >= chunk_rows:
                            yield numbers, rows
                            rows, numbers = [], []
            except csv.Error as exc:
                raise InputError(f"row {reader.line_num}: cannot parse as CSV: {exc}", path=path) from exc
            if rows:
                yield numbers, rows

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
                    yield numbers, rows
                    rows, numbers = [], []
        if rows:
            yield numbers, rows
        wb.close()

    return [_cell_text(h).strip() for h in header], chunks()
