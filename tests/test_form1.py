"""附表1 and 附表2 against the notice's own text; periods; counting; unknown cells left empty."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from examaudit.cases.register import read_register
from examaudit.cases.tally import FORM1_COLUMNS, reporting_period, tally
from examaudit.cli import main
from examaudit.errors import InputError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_media" / "cases.csv"
NOTICE = REPO / "tests" / "data" / "notice_zjg2024_315.txt"


def _notice_forms() -> dict:
    """附表1 and 附表2 as the notice prints them, parsed from its text (not restated here)."""
    lines = [l for l in NOTICE.read_text(encoding="utf-8").splitlines() if l.strip()]
    i = max(k for k, l in enumerate(lines) if l.strip() == "附表1")  # the form, not the list of attachments
    j = max(k for k, l in enumerate(lines) if l.strip() == "附表2")
    f1, f2 = lines[i:j], lines[j:]
    group_row = f1[3].split("\t")
    col_row = [c for c in f1[4].split("\t")]
    assert col_row[:2] == ["", ""]  # 序号 and 地市 span both header rows
    columns = col_row[2:]
    groups = [g for g in group_row[2:] if g]
    # The text's tab runs under the group titles are ragged (merged cells flattened), so a
    # group's columns are found by wording: each group starts at 开展执法检查的<unit>数量.
    starts = []
    for g in groups:
        unit = re.fullmatch(r"对(.+)执法检查情况", g)[1]
        starts.append(next(k for k, c in enumerate(columns) if c.startswith(f"开展执法检查的{unit}数量")))
    spans = [(s, e) for s, e in zip(starts, starts[1:] + [len(columns)])]
    body = [l for l in f1[5:] if not l.startswith("备注")]
    return {
        "label1": f1[0].strip(), "title": f1[1].strip(), "header_line": f1[2].strip(),
        "corner": group_row[:2], "groups": groups, "spans": spans, "columns": columns,
        "row_numbers": [l.split("\t")[0] for l in body],
        "note": next(l.strip() for l in f1 if l.startswith("备注")),
        "label2": f2[0].strip(), "title2": f2[1].strip(), "columns2": f2[2].split("\t"), "row2": f2[3].split("\t")[0],
    }


def test_committed_notice_is_the_shared_one():
    for shared in (REPO.parent / "shared" / "notice", REPO.parent.parent / "shared" / "notice"):
        if shared.is_dir():
            texts = [p.read_text(encoding="utf-8") for p in shared.glob("*.txt")]
            assert NOTICE.read_text(encoding="utf-8") in texts
            return
    pytest.skip("shared notice folder absent; the committed copy is used")


def test_notice_parse_sees_the_printed_form():
    n = _notice_forms()
    assert len(n["columns"]) == 14 and [e - s for s, e in n["spans"]] == [8, 3, 3]
    assert n["corner"] == ["序号", "地市"] and n["row_numbers"][:2] == ["1", "2"]


def _sheet_text(ws, row: int) -> list:
    return [ws.cell(row, c).value for c in range(1, ws.max_column + 1)]


def test_form1_from_sample_matches_printed_layout(tmp_path, capsys):
    n = _notice_forms()
    out = tmp_path / "附表1.xlsx"
    assert main(["form1", "--month", "2024-06", "--cases", str(SAMPLE), "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value == n["label1"]
    assert ws["A2"].value == re.sub(r"_+", "6", n["title"])  # 2024年6月份工作情况统计表
    assert ws["A3"].value == n["header_line"]  # nothing given: the printed blanks
    top, sub = _sheet_text(ws, 4), _sheet_text(ws, 5)
    assert top[:2] == n["corner"] and sub[:2] == [None, None]
    assert sub[2:] == n["columns"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A4:A5", "B4:B5"} <= merged
    for g, (s, e) in zip(n["groups"], n["spans"]):
        first, last = openpyxl.utils.get_column_letter(3 + s), openpyxl.utils.get_column_letter(2 + e)
        assert top[2 + s] == g and f"{first}4:{last}4" in merged
    assert ws.max_column == 2 + len(n["columns"])
    cities = [ws.cell(r, 2).value for r in range(6, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)]
    assert [ws.cell(6 + k, 1).value for k in range(len(cities))] == list(range(1, len(cities) + 1))
    assert cities[:6] == ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市"]
    note_row = 6 + len(cities)
    assert ws.cell(note_row, 1).value == n["note"]
    assert "2024年5月1日至2024年6月30日" in ws.cell(note_row + 1, 1).value
    printed = capsys.readouterr().out
    assert "period 2024-05-01..2024-06-30" in printed and "outside the period not counted" in printed


def test_header_line_filled_from_options(tmp_path):
    n = _notice_forms()
    out = tmp_path / "f.xlsx"
    assert main(["form1", "--month", "2024-08", "--cases", str(SAMPLE), "--out", str(out), "--unit", "温州市建设局",
                 "--contact", "0577-88888888"]) == 0
    line = openpyxl.load_workbook(out).worksheets[0]["A3"].value
    labels = re.findall(r"(\S+?)：", n["header_line"])
    assert labels == ["填报单位", "填报人", "联系方式", "填报时间"]
    assert line == "填报单位：温州市建设局 填报人：_____ 联系方式：0577-88888888 填报时间：_____"


def test_form2_is_the_printed_blank(tmp_path):
    n = _notice_forms()
    out = tmp_path / "附表2.xlsx"
    assert main(["form2", "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value == n["label2"] and ws["A2"].value == n["title2"]
    assert _sheet_text(ws, 3) == n["columns2"]
    assert ws["A4"].value == int(n["row2"]) and all(v is None for v in _sheet_text(ws, 4)[1:])


def test_sample_counts_by_period():
    reg = read_register(SAMPLE)
    june = tally(reg.cases, reporting_period("2024-06"), columns=reg.columns)
    hz = {(c.unit_type, c.key): v for c, v in zip(FORM1_COLUMNS, june.cells["杭州市"])}
    # 杭州: 丙 (06-18, 罚款 1.5 万, 2 人 2 项 1 整改) and 丁 (06-25, 无问题); 申酉 (04-26) is before the period
    assert [hz[("企业", k)] for k in ("inspected", "unlicensed", "problems", "rectify_units", "suspend_units",
                                      "fine_wan", "rectified", "clues")] == [2, 2, 2, 1, 0, 1.5, 1, 0]
    # 甲考点 (06-05): 停业整顿 and 移送, problems in detail: one done 06-19 (counted), one 07-15 (August's)
    assert [hz[("考试机构", k)] for k in ("inspected", "rectify_units", "rectified")] == [1, 0, 1]
    assert [hz[("培训机构", k)] for k in ("inspected", "rectify_units", "rectified")] == [1, 1, 3]
    aug = tally(reg.cases, reporting_period("2024-08"), columns=reg.columns)
    assert aug.value("杭州市", "考试机构", "rectified") == 1 + 2  # 07-15 detail + the 07-09 recheck's 2
    assert june.counted + june.outside == len(reg.cases)
    assert all(c.inspected_on.isoformat() >= "2024-05-01" for c in reg.cases
               if c.inspected_on in june.period) and june.outside >= 1
    # every printed column is non-zero somewhere in the sample (the sample covers every column)
    for j, col in enumerate(FORM1_COLUMNS):
        assert any((june.cells[c][j] or 0) > 0 for c in june.cities) or any((aug.cells[c][j] or 0) > 0 for c in aug.cities), col


def test_out_of_period_cases_are_not_counted(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("地市,单位类型,单位名称,检查日期,处理结果,发现问题数\n"
                 "A市,企业,甲,2024-04-30,限期整改,1\n"
                 "A市,企业,乙,2024-05-01,限期整改,1\n"
                 "A市,企业,丙,2024-06-30,限期整改,1\n"
                 "A市,企业,丁,2024-07-01,限期整改,1\n", encoding="utf-8")
    reg = read_register(p)
    t = tally(reg.cases, reporting_period("2024-06"), columns=reg.columns)
    assert t.value("A市", "企业", "inspected") == 2 and t.counted == 2 and t.outside == 2
    t = tally(reg.cases, reporting_period(None, "2024-04-30..2024-04-30"), columns=reg.columns)
    assert t.value("A市", "企业", "rectify_units") == 1 and t.period.month == 4


def test_unknown_cells_stay_empty_and_are_listed(tmp_path, capsys):
    p = tmp_path / "r.csv"
    p.write_text("地市,单位类型,单位名称,检查日期,处理结果\nA市,企业,甲,2024-06-01,罚款\nA市,考点,乙,2024-06-02,无问题\n",
                 encoding="utf-8")
    out = tmp_path / "f.xlsx"
    assert main(["form1", "--month", "2024-06", "--cases", str(p), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    ws = openpyxl.load_workbook(out).worksheets[0]
    row = {c.title if c.unit_type == "企业" else f"{c.unit_type}{c.title}": ws.cell(6, 3 + j).value
           for j, c in enumerate(FORM1_COLUMNS)}
    assert row["罚款金额(万元)"] is None and row["查出企业问题总数(项)"] is None  # not 0
    assert row["开展执法检查的企业数量(家)"] == 1 and row["涉嫌犯罪的问题线索移交数量(项)"] == 0
    assert row["考试机构完成整改的问题数量(项)"] == 0  # 无问题: zero problems is known
    assert "罚款金额(万元)" in printed and "left empty" in printed
    assert "A市·企业·罚款金额(万元)" in " ".join(str(c.value) for c in openpyxl.load_workbook(out)["说明"]["A"])


def test_reporting_month_rules(tmp_path, capsys):
    out = tmp_path / "f.xlsx"
    assert main(["form1", "--month", "2024-07", "--cases", str(SAMPLE), "--out", str(out)]) == 2
    assert "not a reporting month" in capsys.readouterr().err and not out.exists()
    assert main(["form1", "--month", "2024-07", "--period", "2024-07-01..2024-07-31", "--cases", str(SAMPLE),
                 "--out", str(out)]) == 0
    assert "2024-07-01..2024-07-31" in capsys.readouterr().out
    with pytest.raises(InputError):
        reporting_period(None, "2024-07-31..2024-07-01")
    assert [reporting_period(f"2024-{m:02d}").start.month for m in (6, 8, 10, 12)] == [5, 7, 9, 11]


@pytest.mark.parametrize("row, where", [
    ("A市,学校,甲,2024-06-01,,1\n", "row 2, column unit_type"),
    ("A市,企业,甲,2024-13-01,,1\n", "row 2, column inspected_on"),
    ("A市,企业,甲,2024-06-01,,many\n", "row 2, column problems_found"),
    ("A市,企业,甲,2024-06-01,批评,1\n", "row 2, column outcome"),
    (",企业,甲,2024-06-01,,1\n", "row 2, column city"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, row, where, capsys):
    p = tmp_path / "r.csv"
    p.write_text("地市,单位类型,单位名称,检查日期,处理结果,发现问题数\n" + row, encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_register(p)
    assert str(p) in str(e.value) and where in str(e.value)
    assert main(["form1", "--month", "2024-06", "--cases", str(p), "--out", str(tmp_path / "f.xlsx")]) == 2
    assert not (tmp_path / "f.xlsx").exists()
