"""Loading and validating records files: encodings, headers, bad rows, ID numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from examaudit.errors import InputError
from examaudit.records.columns import ROSTER, header_map
from examaudit.records.idcard import id_number_problem, make_id_number
from examaudit.records.load import load_callbacks, load_records, load_roster, load_scores

GOOD_ID = make_id_number("330102", date(1980, 5, 17), 123)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_id_numbers():
    assert id_number_problem(GOOD_ID) is None
    assert id_number_problem("11010519491231002X") is None
    bad = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    assert "check digit" in id_number_problem(bad)
    assert "characters" in id_number_problem("12345")
    assert "first-generation" in id_number_problem("110105491231002")
    assert "not a date" in id_number_problem("110105194913310020")


def test_chinese_headers_and_gbk(tmp_path):
    text = f"准考证号（必填）,考点,场次,姓名,身份证号\nK1,EP1,S1,张三,{GOOD_ID}\nK2,EP1,S1,李四,\n"
    roster, rejected = load_roster(_write(tmp_path / "roster.csv", text, "gbk"))
    assert list(roster.candidate_id) == ["K1", "K2"]
    assert roster.name[0] == "张三" and rejected == []
    found, unknown = header_map(ROSTER, ["Candidate ID", "exam centre", "场次", "whatever"])
    assert set(found) == {"candidate_id", "exam_point", "session"} and unknown == ["whatever"]


def test_utf16_with_bom_is_read_without_bom_refused(tmp_path):
    # Excel's "Unicode text" export is UTF-16 with a BOM and tabs
    p = tmp_path / "roster.csv"
    p.write_text("candidate_id\texam_point\tsession\nK1\tEP1\tS1\n", encoding="utf-16")
    roster, _ = load_roster(p)
    assert list(roster.candidate_id) == ["K1"]
    q = tmp_path / "roster2.csv"
    q.write_bytes("candidate_id,exam_point,session\nK1,EP1,S1\n".encode("utf-16-le"))
    with pytest.raises(InputError, match="UTF-16"):
        load_roster(q)


def test_undecodable_bytes_are_refused(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_bytes(b"candidate_id,exam_point,session\nK1,EP1,S\xff\xff\n")
    with pytest.raises(InputError, match="cannot decode"):
        load_roster(p)


def test_missing_required_column_names_file_and_column(tmp_path):
    roster, _ = load_roster(_write(tmp_path / "roster.csv", "candidate_id,exam_point,session\nK1,EP1,S1\n"))
    p = _write(tmp_path / "scores.csv", "candidate_id,exam_point,session,passed\nK1,EP1,S1,1\n")
    with pytest.raises(InputError) as err:
        load_scores(p, roster)
    assert "scores.csv" in str(err.value) and "'total' (总分)" in str(err.value)


def test_malformed_rows_are_rejected_not_coerced(tmp_path):
    roster, _ = load_roster(_write(tmp_path / "roster.csv", "candidate_id,exam_point,session\nK1,EP1,S1\nK2,EP1,S1\nK3,EP1,S1\nK4,EP1,S1\nK5,EP2,S1\nK1,EP9,S9\n"))
    scores_text = ("candidate_id,exam_point,session,total,passed,started_at\n"
                   "K1,EP1,S1,72,合格,2024-06-01 09:00:00\n"
                   "K2,EP1,S1,6O,1,2024-06-01 09:00:00\n"     # letter O, not a zero
                   "K3,EP1,S1,55,maybe,2024-06-01 09:00:00\n"
                   "K4,EP1,S1,61,1,yesterday\n"
                   "K5,EP1,S1,80,1,2024/06/01 09:00\n"        # roster says EP2
                   "K9,EP1,S1,80,1,\n"                        # not on roster
                   "K1,EP1,S1,73,1,\n"                        # second row for K1
                   "K4,EP1\n")                                # too few fields
    scores, rejected = load_scores(_write(tmp_path / "scores.csv", scores_text), roster)
    assert list(scores.candidate_id) == ["K1"]
    reasons = {(r.row, r.column): r.reason for r in rejected}
    assert reasons[(3, "total")].startswith("missing or not a number")
    assert "合格" in reasons[(4, "passed")]
    assert "date" in reasons[(5, "started_at")]
    assert "roster puts" in reasons[(6, "exam_point")]
    assert "not on the roster" in reasons[(7, "candidate_id")]
    assert "second score row" in reasons[(8, "candidate_id")]
    assert "fields" in reasons[(9, "*")]
    assert all(r.file.endswith("scores.csv") and r.action == "rejected" for r in rejected)
    # the duplicated roster row is rejected too, the first kept
    _, roster_rejected = load_roster(tmp_path / "roster.csv")
    assert [(r.row, r.column) for r in roster_rejected] == [(7, "candidate_id")]


def test_bad_id_check_digit_is_kept_and_reported(tmp_path):
    bad = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    roster, rejected = load_roster(_write(tmp_path / "r.csv", f"candidate_id,exam_point,session,id_number\nK1,EP1,S1,{bad}\n"))
    assert len(roster) == 1
    assert rejected[0].action == "kept" and "check digit" in rejected[0].reason and rejected[0].row == 2


def test_callbacks_unasked_questions_are_unknown(tmp_path):
    roster, _ = load_roster(_write(tmp_path / "r.csv", "candidate_id,exam_point,session\nK1,EP1,S1\nK2,EP1,S1\n"))
    text = ("准考证号,回访时间,回访结果,是否参加培训,是否本人参考,是否通过中介缴费\n"
            "K1,2024-07-01 10:00,接通,是,否,不清楚\n"
            "K2,2024-07-01 10:05,空号,,,\n"
            "K2,2024-07-01 10:06,bad outcome,,,\n")
    cb, rejected = load_callbacks(_write(tmp_path / "c.csv", text), roster)
    assert list(cb.outcome) == ["reached", "wrong_number"]
    assert list(cb.sat_exam_in_person) == [0, -1] and list(cb.paid_intermediary) == [-1, -1]
    assert [r.row for r in rejected] == [4]


def test_xlsx_with_typed_cells(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["准考证号", "考点", "场次", "总分", "开始时间"])
    ws.append(["K1", "EP1", "S1", 88.0, None])
    wb.save(tmp_path / "scores.xlsx")
    wb2 = Workbook()
    wb2.active.append(["candidate_id", "exam_point", "session"])
    wb2.active.append(["K1", "EP1", "S1"])
    wb2.save(tmp_path / "roster.xlsx")
    t = load_records(tmp_path / "roster.xlsx", tmp_path / "scores.xlsx")
    assert t.scores.total.tolist() == [88.0] and np.isnat(t.scores.started_at[0])


def test_quoted_fields_crlf_and_blank_lines(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_bytes(b'candidate_id,exam_point,session,name\r\nK1,EP1,S1,A\r\n\r\n,,,\r\nK2,EP1,S1,B\r\nK3,EP1,S1,B,\r\n')
    roster, rejected = load_roster(p)
    assert list(roster.candidate_id) == ["K1", "K2", "K3"] and list(roster.row) == [2, 5, 6]
    # the blank lines are noted, not silently dropped, and nothing is rejected
    assert [(r.row, r.action) for r in rejected] == [(3, "skipped")] and "2 blank" in rejected[0].reason
    q = tmp_path / "roster2.csv"
    q.write_text('candidate_id,exam_point,session,name\nK1,EP1,S1,"Zhang, San"\nK2,EP1,S1,"two\nlines"\nK3,EP1\n', encoding="utf-8")
    roster, rejected = load_roster(q)
    assert list(roster.name) == ["Zhang, San", "two\nlines"]
    assert [(r.row, r.column) for r in rejected] == [(5, "*")]


def test_an_omitted_answer_is_data_scored_wrong_not_a_rejected_row(tmp_path):
    roster = _write(tmp_path / "roster.csv", "candidate_id,exam_point,session\nC1,EP,S1\nC2,EP,S1\n")
    scores = _write(tmp_path / "scores.csv", "candidate_id,exam_point,session,total\nC1,EP,S1,50\nC2,EP,S1,0\n")
    resp = _write(tmp_path / "responses.csv", "candidate_id,item_id,response,correct,seconds\n"
                  "C1,Q1,A,1,20\nC1,Q2,,0,35\nC2,Q1,B,0,18\nC2,Q2,—,0,40\n")
    tables = load_records(roster, scores, resp)
    assert len(tables.responses) == 4
    assert not [p for p in tables.rejected if p.action == "rejected"], tables.rejected
    x, r, t = tables.responses.matrices(np.array(["C1", "C2"], dtype=object))
    assert x[0, 1] == 0 and t[1, 1] == 40
    # Both omitted Q2: no answer, not "the same wrong answer" for the similarity screen.
    assert r[0, 1] == -1 and r[1, 1] == -1 and r[0, 0] != r[1, 0]
