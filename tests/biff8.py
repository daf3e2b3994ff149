"""A minimal BIFF8 ``.xls`` writer, to the published spec ([MS-XLS], [MS-CFB]), for test fixtures.

No locked package writes BIFF (xlwt is unmaintained and not in the lock; xlrd only reads), so
the legacy-workbook tests write their own: an OLE2 compound file holding a ``Workbook`` stream
with BOF, CODEPAGE, FONT, 16 style XFs + one cell XF, BOUNDSHEET per sheet, then each sheet's
BOF, DIMENSIONS, NUMBER / LABEL cells and EOF. Excel writes strings through a shared string
table (SST + LABELSST); this writer uses inline LABEL records, which BIFF8 also allows and
xlrd reads, to avoid SST's CONTINUE splitting. Hidden sheets are supported.
"""

from __future__ import annotations

import struct
from pathlib import Path

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _rec(kind: int, data: bytes) -> bytes:
    assert len(data) <= 8224, "record too long for BIFF8"
    return struct.pack("<HH", kind, len(data)) + data


def _bof(dt: int) -> bytes:
    return _rec(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 0x06))


def _ustr16(s: str) -> bytes:  # XLUnicodeString, 2-byte length, UTF-16LE
    return struct.pack("<HB", len(s), 1) + s.encode("utf-16-le")


def _ustr8(s: str) -> bytes:  # ShortXLUnicodeString, 1-byte length
    return struct.pack("<BB", len(s), 1) + s.encode("utf-16-le")


def _font() -> bytes:
    return _rec(0x0031, struct.pack("<HHHHHBBBB", 220, 0, 0x7FFF, 400, 0, 0, 0, 134, 0) + _ustr8("宋体"))


def _xf(style: bool) -> bytes:
    # font 0, format 0 (General); style XFs have parent 0xFFF, the cell XF points at style 0
    prot = 0xFFF5 if style else 0x0000  # locked + style flag + parent 0xFFF
    return _rec(0x00E0, struct.pack("<HHHBBBBIIH", 0, 0, prot, 0x20, 0, 0, 0 if style else 0xF8, 0, 0, 0x20C0))


def _sheet_stream(rows: list[list[object]]) -> bytes:
    ncol = max((len(r) for r in rows), default=0)
    out = [_bof(0x0010), _rec(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, ncol, 0))]
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(_rec(0x0203, struct.pack("<HHHd", r, c, 16, float(v))))
            else:
                out.append(_rec(0x0204, struct.pack("<HHH", r, c, 16) + _ustr16(str(v))))
    out.append(_rec(0x000A, b""))
    return b"".join(out)


def workbook_stream(sheets: dict[str, list[list[object]]], hidden: set[str] = frozenset()) -> bytes:
    """The BIFF8 ``Workbook`` stream for ``{sheet name: rows}``."""
    head = [_bof(0x0005), _rec(0x0042, struct.pack("<H", 1200)), _rec(0x0022, struct.pack("<H", 0))]
    head += [_font()] * 5
    head += [_xf(True) for _ in range(16)] + [_xf(False)]
    bodies = [_sheet_stream(rows) for rows in sheets.values()]
    bound_len = sum(4 + 6 + 2 + 2 * len(name) for name in sheets)
    pos = sum(map(len, head)) + bound_len + 4  # + the globals' EOF
    bound = []
    for name, body in zip(sheets, bodies):
        bound.append(_rec(0x0085, struct.pack("<IBB", pos, 1 if name in hidden else 0, 0) + _ustr8(name)))
        pos += len(body)
    return b"".join(head + bound + [_rec(0x000A, b"")] + bodies)


def compound_file(stream: bytes, name: str = "Workbook") -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) holding one stream."""
    size = max(len(stream), 4096)  # at or above the mini-stream cutoff: a regular stream
    data = stream.ljust(-(-size // 512) * 512, b"\0")
    n_data = len(data) // 512
    n_fat = 1
    while n_fat * 128 < n_data + 1 + n_fat:
        n_fat += 1
    assert n_fat <= 109
    dir_sector = n_data
    fat = [i + 1 for i in range(n_data - 1)] + [ENDOFCHAIN, ENDOFCHAIN] + [FATSECT] * n_fat
    fat += [FREESECT] * (n_fat * 128 - len(fat))

    def entry(ename: str, kind: int, child: int, start: int, length: int) -> bytes:
        raw = (ename + "\0").encode("utf-16-le") if ename else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1 if kind else 0)
                + struct.pack("<III", NOSTREAM, NOSTREAM, child) + b"\0" * 16 + struct.pack("<IQQIQ", 0, 0, 0, start, length))

    directory = (entry("Root Entry", 5, 1, ENDOFCHAIN, 0) + entry(name, 2, NOSTREAM, 0, size)
                 + entry("", 0, NOSTREAM, 0, 0) * 2)
    difat = [n_data + 1 + i for i in range(n_fat)] + [FREESECT] * (109 - n_fat)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_sector, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
              + struct.pack("<109I", *difat))
    assert len(header) == 512
    return header + data + directory + struct.pack(f"<{len(fat)}I", *fat)


def write_xls(path: str | Path, sheets: dict[str, list[list[object]]], hidden: set[str] = frozenset()) -> Path:
    path = Path(path)
    path.write_bytes(compound_file(workbook_stream(sheets, hidden)))
    return path
