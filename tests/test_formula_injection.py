"""Formula injection (issue 18, item 3): text from input files never reaches a spreadsheet as a formula.

One function, :func:`examaudit.outputs.neutralise`, holds the rule; these tests check it and
that every CSV / xlsx writer uses it: ``candidates.csv``, ``exam_points.csv``, ``validation.csv``
(records), ``samples.csv`` / ``seats.csv`` / ``evidence.csv`` (``write_csv``) and the 附表1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from examaudit.outputs import FORMULA_STARTS, neutralise, write_csv
from examaudit.records.pipeline import RecordsInputs, run_records, write_records_outputs

PAYLOADS = ['=HYPERLINK("http://evil.example","点击")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]


def _dangerous(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_neutralise_prefixes_every_formula_start(payload):
    out = neutralise(payload)
    assert out == "'" + payload and not _dangerous(out)


def test_neutralise_leaves_plain_text_and_numbers():
    assert neutralise("EP-HZ-01") == "EP-HZ-01"
    assert neutralise("张三") == "张三"
    assert neutralise(-3.5) == -3.5 and neutralise(7) == 7 and neutralise(None) is None


def test_write_csv_neutralises_text_cells(tmp_path):
    p = tmp_path / "seats.csv"
    write_csv(p, [{"seat": "01", "candidate_id": PAYLOADS[0], "minutes": -1.5}])
    row = next(csv.DictReader(open(p, encoding="utf-8-sig", newline="")))
    assert row["candidate_id"] == "'" + PAYLOADS[0] and row["minutes"] == "-1.5"


def test_records_outputs_neutralise_input_text(tmp_path):
    roster = tmp_path / "roster.csv"
    scores = tmp_path / "scores.csv"
    ids = ["=1+1", "+K2", "-K3", "@K4", "K5"] + [f"K{i}" for i in range(6, 30)]
    with open(roster, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["准考证号", "考点", "场次", "身份证号"])
        for c in ids:
            w.writerow([c, "=EP()", "@S1", "=bad"])
    with open(scores, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["准考证号", "考点", "场次", "总分", "是否合格"])
        for k, c in enumerate(ids):
            w.writerow([c, "=EP()", "@S1", 50 + k, "-cmd" if k == 0 else ""])
    res = run_records(RecordsInputs(roster, scores))
    paths = write_records_outputs(res, tmp_path / "out")
    for name in ("candidates", "exam_points", "validation"):
        rows = list(csv.reader(open(paths[name], encoding="utf-8", newline="")))
        cells = [c for r in rows for c in r]
        assert cells and not any(_dangerous(c) for c in cells), (name, [c for c in cells if _dangerous(c)][:5])
    cand = open(paths["candidates"], encoding="utf-8").read()
    assert "'+K2" in cand and "'-K3" in cand and "'=EP()" in cand and "'@S1" in cand
    validation = open(paths["validation"], encoding="utf-8").read()
    assert "'=BAD" in validation and "'-cmd" in validation


def test_form1_city_names_are_text_not_formulas(tmp_path):
    from examaudit.cases.register import read_register
    from examaudit.cases.tally import reporting_period, tally
    from examaudit.report.form1 import write_form1

    reg = tmp_path / "cases.csv"
    reg.write_text("city,unit_type,unit_name,date,outcome,problems_found\n"
                   '"=HYPERLINK(""http://evil"",""x"")",企业,某公司,2024-05-03,限期整改,2\n'
                   "杭州市,考试机构,某考点,2024-05-04,停业整改,1\n", encoding="utf-8")
    r = read_register(reg)
    out = write_form1(tally(r.cases, reporting_period("2024-06"), columns=r.columns), tmp_path / "form1.xlsx")
    ws = openpyxl.load_workbook(out).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.value == "'=HYPERLINK(\"http://evil\",\"x\")" for c in cells)
    assert all(c.data_type == "s" for c in cells)
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"], "a formula in 附表1"

