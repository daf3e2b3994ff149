"""附表1: the register is validated, the month filtered, the headers in order, unknowns left empty."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from examaudit.cli import main
from examaudit.errors import InputError
from examaudit.report.form1 import (
    GROUPS,
    METRICS,
    header_rows,
    read_register,
    scrub,
    tabulate,
    typical_cases,
    write_form1,
    write_typical_cases,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_media" / "cases.csv"
HEADER = "city,unit_type,unit_name,date,outcome,problems_found,problems_rectified,fine_wan,referred_police,certificates_revoked\n"


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    p = tmp_path / "cases.csv"
    p.write_text(header + body, encoding="utf-8")
    return p


def test_sample_register_is_valid_and_spans_two_months():
    reg = read_register(SAMPLE)
    assert 20 <= len(reg.cases) <= 40 and len(reg.cities) >= 4
    assert {f"{c.date:%Y-%m}" for c in reg.cases} == {"2024-06", "2024-07"}
    assert {c.unit_type for c in reg.cases} == set(GROUPS)


def test_cli_writes_xlsx_with_headers_in_order(tmp_path, capsys):
    out = tmp_path / "附表1.xlsx"
    md = tmp_path / "cases.md"
    assert main(["form1", "--month", "2024-06", "--cases", str(SAMPLE), "--out", str(out), "--cases-out", str(md)]) == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value.startswith("附表1") and "2024年6月" in ws["A1"].value
    assert ws["A2"].value.startswith("填报单位")
    top, sub = header_rows()
    assert [ws.cell(4, c).value for c in range(3, len(sub))] == sub[2:-1]
    assert [ws.cell(3, c).value for c in (1, 2, 3, 3 + len(METRICS), 3 + 2 * len(METRICS), len(sub))] == \
        ["序号", "地市", "企业", "培训机构", "考试机构", "备注"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A3:A4" in merged and "B3:B4" in merged
    cities = read_register(SAMPLE).cities
    assert [ws.cell(5 + i, 2).value for i in range(len(cities))] == cities
    total = ws.cell(5 + len(cities), 2)
    assert total.value == "合计" and str(ws.cell(total.row, 3).value).startswith("=SUM(C5:")
    assert "某考试机构" in md.read_text(encoding="utf-8")
    assert "6 cities" in capsys.readouterr().out


def test_month_filter_and_counts(tmp_path):
    p = _write(tmp_path, "A市,考试机构,甲考点,2024-06-05,停业整改;移送公安机关,5,2,3,1,12\n"
                         "A市,考试机构,甲考点,2024-06-20,限期整改,1,1,,0,0\n"
                         "A市,enterprise,乙公司,2024-07-01,罚款,2,2,1.5,0,0\n"
                         "B市,training,丙学校,2024/6/9,限期整改,1,,,0,0\n")
    form = tabulate(read_register(p), "2024-06")
    a = form.cells["A市"]
    assert a[("考试机构", "inspected")] == 1  # one unit inspected twice counts once
    assert a[("考试机构", "problems_found")] == 6 and a[("考试机构", "fine_wan")] == 3
    assert a[("考试机构", "ordered_suspend")] == 1 and a[("考试机构", "referred_police")] == 1
    assert a[("企业", "inspected")] == 0  # July's case is not in June
    b = form.cells["B市"]
    assert b[("培训机构", "problems_rectified")] is None  # left blank in every row: unknown, not zero
    assert form.total("考试机构", "certificates_revoked") == 12


def test_missing_columns_stay_empty_for_manual_entry(tmp_path):
    p = _write(tmp_path, "A市,企业,乙公司,2024-06-01,移送公安机关\n", header="地市,单位类型,单位名称,检查日期,处理结果\n")
    form = tabulate(read_register(p), "2024-06")
    row = form.cells["A市"]
    assert row[("企业", "fine_wan")] is None and row[("企业", "problems_found")] is None
    assert row[("企业", "referred_police")] == 1  # known from the outcome
    assert "罚款金额（万元）" in form.unknown_metrics
    out = write_form1(form, tmp_path / "f.xlsx")
    ws = openpyxl.load_workbook(out).worksheets[0]
    fine_col = 3 + [m.key for m in METRICS].index("fine_wan")
    assert ws.cell(5, fine_col).value is None and ws.cell(5, 3).value == 1


@pytest.mark.parametrize("row, where", [
    ("A市,学校,甲,2024-06-01,,1,1,1,0,0\n", "row 2, column unit_type"),
    ("A市,企业,甲,2024-13-01,,1,1,1,0,0\n", "row 2, column date"),
    ("A市,企业,甲,2024-06-01,,many,1,1,0,0\n", "row 2, column problems_found"),
    ("A市,企业,甲,2024-06-01,批评,1,1,1,0,0\n", "row 2, column outcome"),
    (",企业,甲,2024-06-01,,1,1,1,0,0\n", "row 2: column city"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, row, where):
    p = _write(tmp_path, row)
    with pytest.raises(InputError) as e:
        read_register(p)
    assert str(p) in str(e.value) and where in str(e.value)


def test_bad_register_exits_2(tmp_path, capsys):
    p = _write(tmp_path, "", header="foo,bar\n")
    assert main(["form1", "--month", "2024-06", "--cases", str(p), "--out", str(tmp_path / "f.xlsx")]) == 2
    assert "missing column" in capsys.readouterr().err
    assert main(["form1", "--month", "June", "--cases", str(SAMPLE), "--out", str(tmp_path / "f.xlsx")]) == 2


def test_typical_cases_are_anonymised(tmp_path):
    reg = read_register(SAMPLE)
    cases = typical_cases(reg, "2024-06")
    assert cases and "移送公安机关" in cases[0].outcome
    names = {c.unit_name for c in reg.cases}
    for c in cases:
        assert c.unit.startswith("某")
        assert not any(n in c.text for n in names)
        assert "13812345678" not in c.text and "330106199001011234" not in c.text
    docx = write_typical_cases(cases, tmp_path / "cases.docx", "2024-06")
    with zipfile.ZipFile(docx) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    assert "典型案例" in xml and "某考试机构" in xml


def test_scrub_removes_ids_phones_and_names():
    s = scrub("甲公司张某某 11010519491231002X 电话13900001111", ["甲公司"])
    assert "甲公司" not in s and "11010519491231002X" not in s and "13900001111" not in s
