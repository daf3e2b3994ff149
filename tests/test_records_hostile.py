"""Hostile records (issue 18, item 2): a corpus of malformed files, and hypothesis fuzzing of every loader.

Each corpus file goes through the real command line, in process. The answer is exit 0 with the
bad rows in ``validation.csv``, or exit 2 with one line naming the file (and the column or row
where there is one). Never a traceback, never exit 3. The fuzzing asks the same of the loaders
directly, and one thing more: every row of a generated sheet is either kept or listed, never
dropped silently.
"""

from __future__ import annotations

import csv
import io
import os
import random
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from examaudit.cli import main
from examaudit.errors import InputError
from examaudit.outputs import path_text
from examaudit.records import columns as C
from examaudit.records.load import (load_callbacks, load_certificates, load_responses, load_roster, load_scores,
                                    read_columns)
from tests.biff8 import write_xls

SAMPLE = Path(__file__).resolve().parents[1] / "sample_media" / "records"
ROSTER_H = ["准考证号", "考点", "场次", "姓名", "身份证号", "手机号", "考场", "座位号"]
SCORES_H = ["准考证号", "考点", "场次", "总分", "是否合格", "开始时间", "交卷时间"]


def _rows(path: Path, n: int) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:n + 1]


def _csv_bytes(header, rows, enc="utf-8", delim=",") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(enc)


def _xlsx_bytes(sheets: dict[str, list[list[object]]], hidden=(), merges=()) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if name in hidden:
            ws.sheet_state = "hidden"
    for sheet, rng in merges:
        wb[sheet].merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _lying_zip(real: bytes, claimed: int) -> bytes:
    """An xlsx whose central directory claims a member expands to ``claimed`` bytes (a zip bomb's signature)."""
    data = bytearray(real)
    i = data.rfind(b"PK\x01\x02")
    while i >= 0:
        struct.pack_into("<I", data, i + 24, claimed & 0xFFFFFFFF)
        i = data.rfind(b"PK\x01\x02", 0, i)
    return bytes(data)


def corpus(tmp: Path) -> list[tuple[str, str, Path]]:
    """(name, role, file): at least 40 malformed or awkward records files."""
    rng = random.Random(18)
    rh, rrows = _rows(SAMPLE / "roster.csv", 30)
    sh, srows = _rows(SAMPLE / "scores.csv", 30)
    good_roster = _csv_bytes(rh, rrows)
    out: list[tuple[str, str, bytes | None, str]] = []

    def add(name, role, data, suffix=".csv"):
        out.append((name, role, data, suffix))

    add("random_bytes", "roster", rng.randbytes(4000))
    add("random_bytes_xlsx", "roster", rng.randbytes(4000), ".xlsx")
    add("random_bytes_xls", "scores", rng.randbytes(4000), ".xls")
    add("zip_not_xlsx", "roster", _zip_with({"hello.txt": b"hi"}), ".xlsx")
    add("zero_length", "roster", b"")
    add("only_bom", "roster", b"\xef\xbb\xbf")
    add("utf16_no_bom", "roster", good_roster.decode().encode("utf-16-le"))
    add("utf16_bom_tabs", "roster", b"\xff\xfe" + _csv_bytes(rh, rrows, delim="\t").decode().encode("utf-16-le"))
    add("utf8_header_gbk_rows", "roster", _csv_bytes(rh, [], "utf-8") + _csv_bytes(rrows[0], rrows[1:], "gbk"))
    add("latin1", "roster", "candidate_id,exam_point,session,name\nK1,EP,S1,Müller\xff\n".encode("latin-1"))
    add("bom_then_gbk", "roster", b"\xef\xbb\xbf" + _csv_bytes(rh, rrows, "gbk"))
    add("nul_bytes_middle", "roster", good_roster[:200] + b"\x00\x00" + good_roster[200:])
    quoted = [list(r) for r in rrows]
    quoted[3][3] = "张\n三"
    quoted[5][3] = 'say "hi",\r\nbye'
    add("quoted_newlines", "roster", _csv_bytes(rh, quoted))
    add("unterminated_quote", "roster", good_roster + b'EP-X,"EP-HZ-01,S1\n')
    big = [list(r) for r in rrows]
    big[2][3] = "长" * (1 << 20)
    add("one_mb_cell", "roster", _csv_bytes(rh, big))
    add("duplicate_headers", "roster", _csv_bytes(rh + ["准考证号"], [r + ["X" + r[0]] for r in rrows]))
    formulas = [list(r) for r in rrows]
    for k, f in enumerate(["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]):
        formulas[k][3] = f
    formulas[6][0] = "=1+1"
    add("formulas", "roster", _csv_bytes(rh, formulas))
    add("header_only", "roster", _csv_bytes(rh, []))
    add("missing_required", "roster", _csv_bytes(["姓名", "身份证号"], [r[3:5] for r in rrows]))
    add("all_rows_wrong_width", "roster", _csv_bytes(rh, [r[:4] for r in rrows]))
    add("ten_thousand_columns", "roster", _csv_bytes(rh + [f"x{i}" for i in range(10000)], [r + [""] * 10000 for r in rrows[:3]]))
    add("cr_only_lines", "roster", good_roster.replace(b"\r\n", b"\r"))
    add("tab_and_commas", "roster", _csv_bytes(rh, rrows, delim="\t").replace(b"\t", b",", 40))
    add("trailing_empty_fields", "roster", _csv_bytes(rh, [r + [""] * 5 for r in rrows]))
    add("duplicate_candidates", "roster", _csv_bytes(rh, rrows + rrows[:5]))
    add("header_punctuation", "roster", _csv_bytes(["  ", "—", "/"], [["a", "b", "c"]]))
    add("megabyte_header", "roster", ("准考证号," + "x" * (1 << 20) + "\nK1,1\n").encode())
    add("summary_only", "roster", _csv_bytes(rh, [["合计", "30"]]))
    add("ids_weird", "roster", _csv_bytes(rh, [r[:4] + [v] + r[5:] for r, v in zip(rrows, ["1" * 17, "ABCDEFGHIJKLMNOPQR", "3.1E+17", "１１０１０５１９４９１２３１００２Ｘ", "-", "0" * 18] * 5)]))
    # scores
    bad_scores = [list(r) for r in srows]
    for k, v in enumerate(["NaN", "inf", "-5", "1e400", "6O", "缺考", "", "—"]):
        bad_scores[k][3] = v
    for k, v in enumerate(["yesterday", "2024-13-45 25:61", "45463.4", "20240620 0900", "0", "99999999999"]):
        bad_scores[k + 10][5] = v
    add("scores_bad_values", "scores", _csv_bytes(sh, bad_scores))
    add("scores_unknown_candidates", "scores", _csv_bytes(sh, [["NOPE" + r[0]] + r[1:] for r in srows]))
    # workbooks
    add("xlsx_merged_headers", "roster", _xlsx_bytes({"名单": [["考生名单"], rh, *rrows]}, merges=[("名单", "A1:H1"), ("名单", "B2:C2")]), ".xlsx")
    add("xlsx_all_hidden", "roster", _xlsx_bytes({"a": [rh, *rrows], "b": [["x"]]}, hidden=("a",)), ".xlsx")
    add("xlsx_empty_sheets", "roster", _xlsx_bytes({"Sheet1": [], "Sheet2": []}), ".xlsx")
    add("xlsx_formulas_errors", "roster", _xlsx_bytes({"s": [rh, *[[*r[:3], "=A1&B1", "#DIV/0!", *r[5:]] for r in rrows]]}), ".xlsx")
    add("xlsx_zip_bomb", "roster", _lying_zip(_xlsx_bytes({"s": [rh, *rrows]}), 3 << 30), ".xlsx")
    add("xlsx_truncated", "roster", _xlsx_bytes({"s": [rh, *rrows]})[:1500], ".xlsx")
    add("xlsx_other_header_sheets", "roster", _xlsx_bytes({"说明": [["填表说明"]], "统计": [["考点", "人数"], ["EP", 3]]}), ".xlsx")
    add("xls_truncated_biff", "roster", _xls_bytes(tmp, [rh, *rrows])[:700], ".xls")
    add("xls_cfb_header_only", "roster", _xls_bytes(tmp, [rh, *rrows])[:512], ".xls")
    add("xls_real_hidden", "roster", _xls_bytes(tmp, [rh, *rrows], hidden=True), ".xls")
    add("html_no_table", "roster", b"<html><body><p>\xe6\x97\xa0</p></body></html>", ".xls")
    add("html_broken_nested", "roster", ("<table><tr><td>准考证号<td>考点<td>场次<tr><td>K1<td>EP<td><table><tr><td>S1</table>"
                                          "<tr><td colspan=99999>x</table>").encode(), ".xls")
    add("html_huge_rowspan", "roster", (f"<table><tr><th>{'</th><th>'.join(rh)}</th></tr>"
                                         "<tr><td rowspan=1000000>K1</td><td>EP</td><td>S1</td></tr></table>").encode(), ".xls")
    lol = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10 if i else "lol"}">' for i in range(10))
    add("xml2003_entity_bomb", "roster", (f'<?xml version="1.0"?><!DOCTYPE Workbook [{lol}]>'
                                          '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table>'
                                          '<Row><Cell><Data>&l9;</Data></Cell></Row></Table></Worksheet></Workbook>').encode(), ".xls")
    add("xml2003_truncated", "roster", ('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
                                        '<Worksheet ss:Name="a"><Table><Row><Cell>').encode(), ".xls")
    add("csv_named_xlsx", "roster", good_roster, ".xlsx")
    add("xlsx_named_csv", "roster", _xlsx_bytes({"s": [rh, *rrows]}), ".csv")

    files = []
    for name, role, data, suffix in out:
        p = tmp / f"{name}{suffix}"
        p.write_bytes(data)
        files.append((name, role, p))
    # a non-UTF-8 file name, and a folder where a file should be
    odd = os.fsencode(tmp) + b"/\xff\xfe\xb8roster.csv"
    with open(odd, "wb") as fh:
        fh.write(good_roster)
    files.append(("non_utf8_name", "roster", Path(os.fsdecode(odd))))
    (tmp / "a_folder.csv").mkdir()
    files.append(("folder", "roster", tmp / "a_folder.csv"))
    return files


def _zip_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def _xls_bytes(tmp: Path, rows, hidden=False) -> bytes:
    p = tmp / "_tmp.xls"
    sheets = {"说明": [["x"]], "名单": rows} if hidden else {"名单": rows}
    write_xls(p, sheets, hidden={"名单"} if hidden else set())
    data = p.read_bytes()
    p.unlink()
    return data


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    good = tmp_path_factory.mktemp("good")
    rh, rrows = _rows(SAMPLE / "roster.csv", 30)
    sh, srows = _rows(SAMPLE / "scores.csv", 30)
    (good / "roster.csv").write_bytes(_csv_bytes(rh, rrows))
    (good / "scores.csv").write_bytes(_csv_bytes(sh, srows))
    return corpus(tmp), good


def test_corpus_has_forty_files(hostile):
    files, _ = hostile
    assert len(files) >= 40


@pytest.mark.parametrize("index", range(52))
def test_hostile_file_exits_0_or_2_without_traceback(index, hostile, tmp_path, capsys):
    files, good = hostile
    if index >= len(files):
        pytest.skip("corpus is smaller")
    name, role, path = files[index]
    args = ["records", "--roster", str(good / "roster.csv"), "--scores", str(good / "scores.csv"),
            "--out", str(tmp_path / "out"), "--quiet"]
    args[args.index(f"--{role}") + 1] = str(path)
    rc = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err and rc in (0, 2), f"{name}: rc={rc}\n{err[-2000:]}"
    if rc == 2:
        lines = [x for x in err.splitlines() if x.strip()]
        assert len(lines) == 1, f"{name}: {err}"
        # the line names the file at fault: the hostile one, or the one it left without a match
        named = [str(path), path.name, path_text(path), str(good / "scores.csv"), str(good / "roster.csv")]
        assert any(n in lines[0] for n in named), f"{name}: {lines[0]}"
    else:
        validation = (tmp_path / "out" / "validation.csv").read_text(encoding="utf-8")
        assert validation.startswith("file,row,column,value,reason,action"), name
        if name == "formulas":
            cells = list(csv.reader(io.StringIO(validation)))
            assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for row in cells for c in row), cells
            cand = (tmp_path / "out" / "candidates.csv").read_text(encoding="utf-8")
            assert "\n=" not in cand and ",=" not in cand


def test_the_checker_dry_run_never_raises(hostile):
    from examaudit.records.check import check_records

    files, _ = hostile
    checks = check_records([p for _, _, p in files])
    assert len(checks) == len(files)
    assert all(c.error or c.role for c in checks)


# -- property-based fuzzing of every loader ------------------------------------------------------

_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "—", "/", "无", "缺考", "合计", "=1+1", "@x", "-1", "+1", "0", "1", "是", "否", "合格", "不合格",
                     "2024-06-20 09:00", "45463.375", "20240620 0900", "3.10104E+17", "１２", "\u00a0K1", "NaN", "inf"]),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
_LOADERS = {
    "roster": (C.ROSTER, lambda p, t: load_roster(p)),
    "scores": (C.SCORES, lambda p, t: load_scores(p, t["roster"])),
    "responses": (C.RESPONSES, lambda p, t: load_responses(p, t["scores"])),
    "callbacks": (C.CALLBACKS, lambda p, t: load_callbacks(p, t["roster"])),
    "certificates": (C.CERTIFICATES, lambda p, t: load_certificates(p)),
}


@pytest.fixture(scope="module")
def refs(tmp_path_factory):
    d = tmp_path_factory.mktemp("refs")
    (d / "r.csv").write_text("准考证号,考点,场次\nK1,EP,S1\nK2,EP,S1\n", encoding="utf-8")
    (d / "s.csv").write_text("准考证号,考点,场次,总分\nK1,EP,S1,70\nK2,EP,S1,50\n", encoding="utf-8")
    roster, _ = load_roster(d / "r.csv")
    scores, _ = load_scores(d / "s.csv", roster)
    return {"roster": roster, "scores": scores}


def _header(spec: C.TableSpec, data) -> list[str]:
    cols = list(spec.columns)
    names = [data.draw(st.sampled_from([c.zh, c.name, *c.aliases[:2]])) for c in cols]
    extra = data.draw(st.lists(st.text(max_size=6), max_size=2))
    return names + extra


def _accounted(rows_written: dict[int, list[str]], kept_rows, problems) -> None:
    """Every non-blank written row is kept or named in the problems (never dropped silently)."""
    kept = {int(r) for r in kept_rows}
    listed = {p.row for p in problems}
    runs = [(p.row, p.value) for p in problems if p.action == "skipped" and p.value.startswith("rows ")]
    for lo, text in runs:
        a, b = text[5:].split("-")
        listed |= set(range(int(a), int(b) + 1))
    for n, cells in rows_written.items():
        if any(c.strip() for c in cells):
            assert n in kept or n in listed, f"row {n} {cells!r} was dropped silently"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), role=st.sampled_from(list(_LOADERS)))
def test_fuzz_csv_loaders(data, role, refs, tmp_path):
    spec, load = _LOADERS[role]
    header = _header(spec, data)
    rows = data.draw(st.lists(st.lists(_cell, min_size=0, max_size=len(header) + 2), max_size=12))
    enc = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    delim = data.draw(st.sampled_from([",", "\t"]))
    text = _csv_bytes(header, rows, "utf-8", delim).decode()
    try:
        raw = text.encode(enc)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    p = tmp_path / f"{role}.csv"
    p.write_bytes(raw)
    try:
        table, problems = load(p, refs)
    except InputError as exc:
        assert str(p) in str(exc) or p.name in str(exc)
        return
    assert all(pr.file == str(p) for pr in problems)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), role=st.sampled_from(["roster", "scores", "callbacks", "certificates"]))
def test_fuzz_xlsx_loaders_account_for_every_row(data, role, refs, tmp_path):
    spec, load = _LOADERS[role]
    header = _header(spec, data)
    value = st.one_of(_cell, st.integers(-10**19, 10**19), st.floats(allow_nan=False, allow_infinity=False), st.none())
    rows = data.draw(st.lists(st.lists(value, max_size=len(header)), max_size=10))
    title = data.draw(st.booleans())
    sheet_rows = ([["考生名单"]] if title else []) + [header] + rows
    wb = Workbook()
    ws = wb.active
    def excel(v):  # what a cell can hold: no control characters; a leading = typed as text
        if not isinstance(v, str):
            return v
        v = ILLEGAL_CHARACTERS_RE.sub("", v)
        return "'" + v if v.startswith("=") else v

    sheet_rows = [[excel(v) for v in r] for r in sheet_rows]
    rows = sheet_rows[len(sheet_rows) - len(rows):]
    for r in sheet_rows:
        ws.append(r)
    p = tmp_path / f"{role}.xlsx"
    wb.save(p)
    try:
        res = read_columns(p, spec)
        table, problems = load(p, refs)
    except InputError as exc:
        assert p.name in str(exc)
        return
    first = 1 + (2 if title else 1)
    written = {first + i: ["" if v is None else str(v) for v in r] for i, r in enumerate(rows)}
    _accounted(written, res.rows, res.problems)
    assert len(table) <= len(rows)


def _valid_workbooks() -> dict[str, bytes]:
    rh, rrows = _rows(SAMPLE / "roster.csv", 8)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        xls = _xls_bytes(Path(d), [rh, *rrows])
    return {".xlsx": _xlsx_bytes({"名单": [["考生名单"], rh, *rrows]}), ".xls": xls, ".csv": _csv_bytes(rh, rrows, "gbk"),
            ".html": f"<table><tr><td>{'</td><td>'.join(rh)}</td></tr></table>".encode()}


_WORKBOOKS = _valid_workbooks()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(_WORKBOOKS)), flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 10**6)), noise=st.binary(max_size=64), role=st.sampled_from(list(_LOADERS)))
def test_fuzz_damaged_files_raise_input_error_or_load(kind, flips, cut, noise, role, refs, tmp_path):
    """Flipped bytes, truncation and noise in real workbooks and CSVs: an InputError naming the file, or rows."""
    data = bytearray(_WORKBOOKS[kind])
    for pos, byte in flips:
        data[pos % len(data)] = byte
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    data += noise
    p = tmp_path / f"{role}{kind}"
    p.write_bytes(bytes(data))
    try:
        _LOADERS[role][1](p, refs)
    except InputError as exc:
        assert p.name in str(exc)


def test_one_damaged_byte_deep_in_a_csv_is_named_by_row_and_column(tmp_path):
    """A UTF-8 export with one broken character on row 402 is refused, saying where: the auditor can fix
    that line instead of hunting through 100,000 rows for why "the file cannot be decoded"."""
    lines = ["准考证号,考点,场次,姓名,身份证号,手机号,考场,座位号,工种"]
    lines += [f"EP-1-S1-{i:03d},EP-1,S1,王建{i},11010519491231002X,13812345678,R1,{i % 30},建筑电工" for i in range(600)]
    data = bytearray("\n".join(lines).encode("utf-8"))
    at = data.find("王建401".encode()) + 4  # the second byte of 建 (column 22) on row 403 (the header and rows 0..400 before it)
    data[at] ^= 0x40
    path = tmp_path / "roster.csv"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        load_roster(path)
    msg = str(err.value)
    assert "UTF-8 (row 403, column 22: byte 0xE5)" in msg and "roster.csv" in msg, msg
