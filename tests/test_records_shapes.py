"""Records as bureaus export them (issue 19): each shape gives the candidates the plain CSV gives.

The checker's criterion, run on spreadsheets made from ``sample_media/records``: every shape
gives exactly the candidates that the plain CSV gives, and no ``invalid_id_number`` finding
that the CSV does not give. One ID number is planted with a bad check character (as text,
since it ends in X) so the criterion is not met by giving no findings at all.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from examaudit.errors import InputError
from examaudit.records.load import ID_AS_NUMBER_ZH, load_records, load_roster, load_scores
from examaudit.records.pipeline import RecordsInputs, run_records, write_records_outputs
from tests.records_shapes import SHAPES, TITLE, read_csv, xlsx_numbers, xlsx_title_total, xlsx_two_sheets

SAMPLE = Path(__file__).resolve().parents[1] / "sample_media" / "records"
FAST = {"everything.xlsx", "biff8.xls", "html.xls"}  # the rest run with -m slow


def _planted(tmp: Path) -> dict[str, Path]:
    """The sample roster with one ID number given a wrong check character (X), plus the other files."""
    header, rows = read_csv(SAMPLE / "roster.csv")
    k = header.index("身份证号")
    row = next(r for r in rows if r[k][-1].isdigit())
    row[k] = row[k][:17] + "X"
    out = tmp / "csv"
    out.mkdir()
    with open(out / "roster.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    files = {"roster": out / "roster.csv"}
    for role in ("scores", "callbacks", "certificates"):
        files[role] = SAMPLE / f"{role}.csv"
    return files


def _result(files: dict[str, Path]):
    return run_records(RecordsInputs(files["roster"], files["scores"], callbacks=files["callbacks"],
                                     certificates=files["certificates"]))


def _invalid_ids(res) -> set[str]:
    return {f.candidate_id for f in res.findings if f.kind.value == "invalid_id_number"}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    files = _planted(tmp_path_factory.mktemp("plain"))
    res = _result(files)
    assert _invalid_ids(res), "the planted bad ID must give a finding on the plain CSV"
    return files, res


@pytest.mark.parametrize("shape", [pytest.param(s, marks=() if s in FAST else pytest.mark.slow) for s in SHAPES])
def test_each_shape_gives_the_csv_candidates(shape, plain, tmp_path):
    files, base = plain
    made = dict(files)
    for role in ("roster", "scores"):
        header, rows = read_csv(files[role])
        made[role] = SHAPES[shape](header, rows, tmp_path / f"{role}_{shape}")
    res = _result(made)
    assert sorted(res.candidates.candidate_id) == sorted(base.candidates.candidate_id)
    assert _invalid_ids(res) <= _invalid_ids(base)
    # nothing dropped silently: every roster line is a candidate or a note in validation.csv
    roster_layout = res.tables.roster.layout
    assert sum(s.rows_read for s in roster_layout.sheets if s.state == "read") == 580
    paths = write_records_outputs(res, tmp_path / "out")
    assert paths["validation"].read_text(encoding="utf-8").count("\n") >= 1


def test_title_unit_lines_and_total_row_are_skipped_and_noted(tmp_path):
    header, rows = read_csv(SAMPLE / "roster.csv")
    roster, notes = load_roster(xlsx_title_total(header, rows[:20], tmp_path / "roster.xlsx"))
    assert len(roster) == 20
    sheet = roster.layout.sheets[0]
    assert (sheet.header_row, sheet.rows_read) == (4, 20)
    reasons = [(n.row, n.action, n.reason) for n in notes]
    assert any(r == 1 and "above the header" in why for r, _, why in reasons)
    assert any("合计" in n.value and n.action == "skipped" for n in notes)
    assert all(a == "skipped" for _, a, _ in reasons)


def test_two_sheets_are_one_table_and_locations_name_the_sheet(tmp_path):
    header, rows = read_csv(SAMPLE / "roster.csv")
    rows = [list(r) for r in rows[:40]]
    rows[35][0] = ""  # an empty candidate id on the second sheet, row 17
    p = xlsx_two_sheets(header, rows, tmp_path / "roster.xlsx")
    roster, problems = load_roster(p)
    assert len(roster) == 39
    assert set(roster.sheet) == {"第一批", "第二批"}
    states = {s.name: (s.state, s.rows_read, s.rows_rejected) for s in roster.layout.sheets}
    assert states == {"第一批": ("read", 20, 0), "第二批": ("read", 20, 1), "旧名单": ("hidden", 0, 0),
                      "填表说明": ("no header", 0, 0)}
    bad = next(r for r in problems if r.action == "rejected")
    assert bad.location == "roster.xlsx[第二批]!A17"
    skipped = {r.sheet: r.reason for r in problems if r.action == "skipped"}
    assert "hidden" in skipped["旧名单"] and "header" in skipped["填表说明"]
    only, _ = load_roster(p, sheet="第二批")
    assert len(only) == 19
    with pytest.raises(InputError, match="no sheet named"):
        load_roster(p, sheet="第三批")


def test_ids_typed_as_numbers_give_one_file_finding_and_no_per_candidate_accusation(tmp_path):
    header, rows = read_csv(SAMPLE / "roster.csv")
    roster_p = xlsx_numbers(header, rows, tmp_path / "roster.xlsx")
    s_header, s_rows = read_csv(SAMPLE / "scores.csv")
    scores_p = xlsx_numbers(s_header, s_rows, tmp_path / "scores.xlsx")
    res = run_records(RecordsInputs(roster_p, scores_p))
    kinds = [f.kind.value for f in res.findings]
    assert "invalid_id_number" not in kinds
    file_level = [f for f in res.findings if f.kind.value == "invalid_record" and "身份证号列" in f.reason_zh]
    assert len(file_level) == 1 and ID_AS_NUMBER_ZH in file_level[0].reason_zh
    ro = res.tables.roster
    # the ID numbers that survived as text (those ending in X) are kept and checked; the others are not used
    kept = ro.id_number[ro.id_number != ""]
    assert len(kept) and all(x.endswith("X") for x in kept)
    # seats lost their zeros to number typing; restored from the column's width, and said so
    assert set(ro.seat) >= {"01", "09", "10"}
    assert any(r.action == "restored" and r.column == "seat" for r in res.tables.rejected)
    # phone numbers typed as numbers are intact
    assert ro.phone[0] == rows[0][header.index("手机号")]


def test_scientific_text_ids_in_csv(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("准考证号,考点,场次,身份证号\nK1,EP,S1,3.10104E+17\nK2,EP,S1,11010519491231002X\n", encoding="gbk")
    roster, problems = load_roster(p)
    assert list(roster.id_number) == ["", "11010519491231002X"]
    assert [r.action for r in problems] == ["file"] and problems[0].reason_zh == ID_AS_NUMBER_ZH


def test_values_as_people_type_them(tmp_path):
    p = tmp_path / "scores.csv"
    p.write_text("考号,考试点,场次,考试成绩,合格与否,开始时间,交卷时间\n"
                 "Ｋ１,EP,S1,７２,合格,2024年6月20日 9时00分,20240620 0930\n"
                 "K2,EP,S1,55,未通过,2024/6/20 9:00,45463.40625\n"
                 "K3,EP,S1,—,缺考,,\n"
                 "K4\u00a0,EP,S1,80,通过,2024-06-20T09:00:00+07:00,/\n", encoding="utf-8")
    r = tmp_path / "roster.csv"
    r.write_text("准考证号,考点名称,场次,手机\nK1,EP,S1,13800000000\nK2,EP,S1,无\nK3,EP,S1,\nK4,EP,S1,\n", encoding="utf-8")
    roster, _ = load_roster(r)
    assert list(roster.phone) == ["13800000000", "", "", ""]
    scores, problems = load_scores(p, roster)
    assert list(scores.candidate_id) == ["K1", "K2", "K4"]
    assert scores.total.tolist() == [72.0, 55.0, 80.0] and scores.passed.tolist() == [1, 0, 1]
    assert [str(t) for t in scores.started_at] == ["2024-06-20T09:00:00", "2024-06-20T09:00:00", "2024-06-20T10:00:00"]
    assert str(scores.submitted_at[0]) == "2024-06-20T09:30:00" and str(scores.submitted_at[1]) == "2024-06-20T09:45:00"
    absent = [x for x in problems if x.action == "absent"]
    assert len(absent) == 1 and absent[0].row == 4 and "缺考" in absent[0].reason
    assert not [x for x in problems if x.action == "rejected"]


def test_renamed_files_are_read_as_what_they_are(tmp_path):
    header, rows = read_csv(SAMPLE / "roster.csv")
    for name in ("html.xls", "csv.xls", "biff8.xls"):
        roster, _ = load_roster(SHAPES[name](header, rows[:10], tmp_path / f"roster_{name}"))
        assert list(roster.candidate_id) == [r[0] for r in rows[:10]], name
        assert roster.layout.format == {"html.xls": "html", "csv.xls": "csv", "biff8.xls": "xls"}[name]
    # an xlsx named .csv is read as a workbook
    q = xlsx_two_sheets(header, rows[:10], tmp_path / "roster.xlsx")
    q2 = q.rename(tmp_path / "roster_really_xlsx.csv")
    roster, _ = load_roster(q2)
    assert len(roster) == 10 and any("xlsx" in n for n in roster.layout.notes)


def test_header_synonyms_table_is_documented_from_code():
    from examaudit.records import columns as C

    doc = (Path(__file__).resolve().parents[1] / "docs" / "records.md").read_text(encoding="utf-8")
    assert C.synonym_markdown() in doc, "docs/records.md: paste examaudit.records.columns.synonym_markdown()"
    for header, canon in [("考试号", "candidate_id"), ("公民身份号码", "id_number"), ("考试机构", "exam_point"),
                          ("得分", "total"), ("合格与否", "passed"), ("手机", "phone"), ("准考证", "candidate_id"),
                          ("证件号码", "id_number"), ("考试结果", "passed"), ("联系电话", "phone")]:
        spec = C.ROSTER if canon in ("candidate_id", "id_number", "exam_point", "phone") else C.SCORES
        assert C.header_lookup(spec)[C.normalise_header(header)] == canon, header


def test_title_text_is_not_taken_for_a_header(tmp_path):
    # the first failure: the title row used to be read as the header
    p = tmp_path / "roster.csv"
    p.write_text(f"{TITLE},,\n填报单位：某站,,\n准考证号,考点,场次\nK1,EP,S1\n合计,1,\n", encoding="gbk")
    roster, notes = load_roster(p)
    assert list(roster.candidate_id) == ["K1"] and roster.layout.sheets[0].header_row == 3
    assert sorted(n.row for n in notes) == [1, 5]


def test_records_check_cli_prints_how_each_file_was_understood(tmp_path, capsys):
    from examaudit.cli import main

    header, rows = read_csv(SAMPLE / "roster.csv")
    p = xlsx_two_sheets(header, rows[:40], tmp_path / "考生名单.xlsx")
    s_header, s_rows = read_csv(SAMPLE / "scores.csv")
    q = SHAPES["html.xls"](s_header, s_rows[:40], tmp_path / "成绩.xls")
    assert main(["records", "check", str(p), str(q)]) == 0
    out = capsys.readouterr().out
    assert "[第一批]: header row 1; 20 rows read" in out and "[旧名单]: hidden, not read" in out
    assert "role: scores" in out and "format: html" in out and "candidate_id <- 准考证号" in out
    assert "40 rows read, 2 skipped, 0 rejected" in out  # the HTML's title line and 合计 line
    assert main(["records", "check", str(p), "--sheet", "第二批"]) == 0
    assert "[第一批]: not selected" in capsys.readouterr().out
    assert main(["records", "check", str(tmp_path / "missing.csv")]) == 2
    assert main(["records", "--roster", str(p)]) == 2
    assert "--scores" in capsys.readouterr().err


def test_explicit_offsets_are_converted_to_the_exam_points_zone(tmp_path):
    r = tmp_path / "r.csv"
    r.write_text("准考证号,考点,场次\nK1,EP,S1\nK2,EP,S1\n", encoding="utf-8")
    s = tmp_path / "s.csv"
    s.write_text("准考证号,考点,场次,总分,开始时间\nK1,EP,S1,70,2024-06-20T09:00:00+07:00\nK2,EP,S1,50,2024-06-20T01:00:00Z\n",
                 encoding="utf-8")
    roster, _ = load_roster(r)
    scores, _ = load_scores(s, roster)
    assert [str(t) for t in scores.started_at] == ["2024-06-20T10:00:00", "2024-06-20T09:00:00"]
    scores, _ = load_scores(s, roster, timezone_name="Asia/Urumqi")  # UTC+6
    assert [str(t) for t in scores.started_at] == ["2024-06-20T08:00:00", "2024-06-20T07:00:00"]


def test_a_csv_whose_ids_went_through_a_number_is_one_file_problem(tmp_path):
    # a script wrote float(ID) back as an integer: 310104198803024883 -> 310104198803024896
    header, rows = read_csv(SAMPLE / "roster.csv")
    k = header.index("身份证号")
    p = tmp_path / "roster.csv"
    with open(p, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            r = list(r)
            if r[k].isdigit():
                r[k] = str(int(float(r[k])))
            w.writerow(r)
    roster, problems = load_roster(p)
    assert [x.action for x in problems] == ["file"] and problems[0].reason_zh == ID_AS_NUMBER_ZH
    assert all(x == "" or x.endswith("X") for x in roster.id_number)


def test_numbers_typed_admission_numbers_are_matched_back_to_the_roster(tmp_path):
    from openpyxl import Workbook

    ids = [f"{i:06d}" for i in range(1, 13)] + ["100000"]
    for name, head, rows in [("roster", ["准考证号", "考点", "场次"], [[i, "EP", "S1"] for i in ids]),
                             ("scores", ["准考证号", "考点", "场次", "总分"], [[int(i), "EP", "S1", 60] for i in ids]),
                             ("responses", ["准考证号", "题号", "作答", "是否正确", "用时"], [[int(i), "Q1", "A", 1, 3] for i in ids])]:
        wb = Workbook()
        wb.active.append(head)
        for r in rows:
            wb.active.append(r)
        wb.save(tmp_path / f"{name}.xlsx")
    t = load_records(tmp_path / "roster.xlsx", tmp_path / "scores.xlsx", tmp_path / "responses.xlsx")
    assert sorted(t.scores.candidate_id) == ids and len(t.responses) == 13
    restored = [r for r in t.rejected if r.action == "restored"]
    assert len(restored) == 2 and all("leading zeros" in r.reason for r in restored)
    assert not [r for r in t.rejected if r.action == "rejected"]
