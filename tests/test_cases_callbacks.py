"""学员电话回访: the call list holds every flagged candidate and a control sample of the printed
size; answers imported back change the exam point's callback findings in records screening."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import openpyxl
import pytest

from examaudit.cases.callbook import LIST_COLUMNS, read_call_outcomes
from examaudit.cases.callplan import control_sample_size, plan_calls, wilson_half_width
from examaudit.cli import main
from examaudit.errors import InputError
from examaudit.findings import Finding, FindingKind, FindingsDocument, RunInfo, Severity, Source, now_utc, write_findings
from examaudit.records.load import load_roster
from examaudit.records.pipeline import RecordsInputs, run_records

REPO = Path(__file__).resolve().parents[1]
RECORDS = REPO / "sample_media" / "records"
EP = "EP-WZ-02"


def _wilson(x: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval written from its textbook form (centre ± spread), independently of the product."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - spread, centre + spread


@pytest.mark.parametrize("d, p", [(0.10, 0.10), (0.05, 0.5), (0.03, 0.05), (0.2, 0.3)])
def test_sample_size_is_the_smallest_meeting_the_precision(d, p):
    s = control_sample_size(d, planning_rate=p)
    lo, hi = _wilson(p * s.n0, s.n0, s.z)
    assert (hi - lo) / 2 <= d + 1e-12
    lo, hi = _wilson(p * (s.n0 - 1), s.n0 - 1, s.z)
    assert (hi - lo) / 2 > d
    assert wilson_half_width(s.n0, p, s.z) == pytest.approx((_wilson(p * s.n0, s.n0, s.z)[1] - _wilson(p * s.n0, s.n0, s.z)[0]) / 2)
    # finite population: never more than N, and the whole pool when it is small
    assert control_sample_size(d, planning_rate=p, population=5).n <= 5
    assert control_sample_size(d, planning_rate=p, population=10**7).n == s.n0


def test_sample_size_rejects_nonsense():
    for bad in (dict(precision=0), dict(precision=0.7), dict(precision=0.1, confidence=1.0),
                dict(precision=0.1, planning_rate=1.5)):
        with pytest.raises(ValueError):
            control_sample_size(**bad)


def _findings_file(tmp_path: Path) -> tuple[Path, dict[str, set[str]]]:
    """Findings of the kinds `examaudit audit sample_media/EP-WZ-02` produces for this exam point
    (absent on video, certificate for an absentee, candidate left) plus records kinds (similarity
    cluster, misfit, certificate without a pass). Generated test input, written as a findings.json."""
    kinds = {
        FindingKind.absent_candidate: ["EP-WZ-02-S1-005", "EP-WZ-02-S1-008"],
        FindingKind.certificate_absent_on_video: ["EP-WZ-02-S1-005"],
        FindingKind.candidate_left: ["EP-WZ-02-S1-023"],
        FindingKind.person_misfit: ["EP-WZ-02-S1-011"],
        FindingKind.certificate_without_pass: ["EP-WZ-02-S1-014"],
    }
    fs = []
    for kind, who in kinds.items():
        for c in who:
            fs.append(Finding.create(kind=kind, source=Source.video if kind.value in ("absent_candidate", "candidate_left")
                                     else Source.records, severity=Severity.high, exam_point=EP, candidate_id=c,
                                     confidence=0.9, reason_zh="测试", reason_en="test", details={"key": c}))
    cluster = ["EP-WZ-02-S1-001", "EP-WZ-02-S1-002", "EP-WZ-02-S1-017"]
    fs.append(Finding.create(kind=FindingKind.similarity_cluster, source=Source.records, severity=Severity.high,
                             exam_point=EP, session="S1", candidate_id=cluster[0], confidence=0.95, reason_zh="测试",
                             reason_en="test", details={"key": "cluster", "candidate_ids": cluster}))
    # another exam point's finding must not put anyone here
    fs.append(Finding.create(kind=FindingKind.absent_candidate, source=Source.video, severity=Severity.high,
                             exam_point="EP-HZ-01", candidate_id="EP-HZ-01-S1-003", confidence=0.9, reason_zh="测试",
                             reason_en="test", details={}))
    path = tmp_path / "findings.json"
    write_findings(FindingsDocument(run=RunInfo(command="test", started_at=now_utc(), finished_at=now_utc()), findings=fs),
                   path)
    flagged: dict[str, set[str]] = {}
    for f in fs:
        if f.exam_point == EP:
            for c in [f.candidate_id, *f.details.get("candidate_ids", [])]:
                flagged.setdefault(c, set()).add(f.kind.value)
    return path, flagged


def _plan(tmp_path, capsys, *extra: str) -> tuple[Path, str, dict[str, set[str]]]:
    findings, flagged = _findings_file(tmp_path)
    out = tmp_path / "calls.xlsx"
    assert main(["callbacks", "plan", "--roster", str(RECORDS / "roster.csv"), "--findings", str(findings),
                 "--exam-point", EP, "--session", "S1", "--out", str(out), *extra]) == 0
    return out, capsys.readouterr().out, flagged


def _rows(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path)["回访名单"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_call_list_has_every_flagged_candidate_and_the_printed_control_size(tmp_path, capsys):
    out, printed, flagged = _plan(tmp_path, capsys)
    rows = _rows(out)
    n = int(re.search(r"control sample n = (\d+)", printed)[1])
    assert "formula" in printed
    ids = [r["准考证号"] for r in rows]
    assert set(flagged) <= set(ids)
    assert len(ids) == len(set(ids)) == len(flagged) + n
    controls = [r for r in rows if r["列入原因"] == "对照抽样（随机）"]
    assert len(controls) == n and not set(r["准考证号"] for r in controls) & set(flagged)
    # flagged first, most serious first: the absentee with a certificate leads
    assert [r["优先级"] for r in rows] == list(range(1, len(rows) + 1))
    assert ids[0] == "EP-WZ-02-S1-005" and set(ids[:len(flagged)]) == set(flagged)
    assert "EP-HZ-01-S1-003" not in ids
    roster, _ = load_roster(RECORDS / "roster.csv")
    in_session = (roster.exam_point == EP) & (roster.session == "S1")
    assert n == control_sample_size(0.10, planning_rate=0.10, population=int(in_session.sum()) - len(flagged)).n
    assert rows[0]["手机号"] and "*" not in rows[0]["手机号"]  # the call team dials it
    # same seed, same list; another seed, other controls
    again = plan_calls(roster, [], EP, "S1", seed=0)
    assert [t.candidate_id for t in again.targets] == [t.candidate_id for t in plan_calls(roster, [], EP, "S1", seed=0).targets]


def test_masked_list_has_no_phone_number(tmp_path, capsys):
    out, _, _ = _plan(tmp_path, capsys, "--mask-phones")
    assert all(re.fullmatch(r"\d{3}\*+\d{4}", r["手机号"]) for r in _rows(out))


def _answer(path: Path, answers: dict[str, dict[str, str]]) -> None:
    """The call team fills in the sheet (as a person would, in Chinese)."""
    wb = openpyxl.load_workbook(path)
    ws = wb["回访名单"]
    col = {h: j for j, h in enumerate([c.value for c in ws[1]], start=1)}
    for r in range(2, ws.max_row + 1):
        cid = ws.cell(r, col["准考证号"]).value
        for header, value in answers.get(cid, {}).items():
            ws.cell(r, col[header]).value = value
    wb.save(path)


def _callback_findings(callbacks: Path) -> set[tuple[str, str | None]]:
    res = run_records(RecordsInputs(RECORDS / "roster.csv", RECORDS / "scores.csv", None, callbacks,
                                    RECORDS / "certificates.csv"))
    return {(f.kind.value, f.candidate_id) for f in res.findings if f.exam_point == EP and f.source == Source.callbacks}


def test_imported_outcomes_change_the_exam_points_callback_findings(tmp_path, capsys):
    out, _, flagged = _plan(tmp_path, capsys)
    rows = _rows(out)
    said_no = [r["准考证号"] for r in rows[:4]]
    answers = {}
    for k, r in enumerate(rows):
        cid = r["准考证号"]
        if k == len(rows) - 1:
            continue  # not called yet: skipped on import
        if cid in said_no:
            answers[cid] = {"回访时间": "2024-06-28 10:%02d" % k, "回访结果": "接通", "是否本人参考": "否",
                            "是否另付费用": "是", "证书取得方式": "中介代办后邮寄", "所答监考人员": "不清楚", "是否参加培训": "否"}
        elif k % 5 == 4:
            answers[cid] = {"回访时间": "2024-06-28 11:%02d" % k, "回访结果": "空号"}
        else:
            answers[cid] = {"回访时间": "2024-06-28 11:%02d" % k, "回访结果": "接通", "是否本人参考": "是",
                            "是否另付费用": "否", "是否参加培训": "是"}
    _answer(out, answers)
    merged = tmp_path / "callbacks.csv"
    assert main(["callbacks", "import", str(out), "--existing", str(RECORDS / "callbacks.csv"), "--out", str(merged)]) == 0
    printed = capsys.readouterr().out
    with open(RECORDS / "callbacks.csv", encoding="utf-8-sig") as fh:
        old = sum(1 for _ in fh) - 1
    assert f"{old} existing row(s) kept, {len(rows) - 1} call(s) added" in printed
    with open(merged, encoding="utf-8-sig") as fh:
        body = list(csv.DictReader(fh))
    assert len(body) == old + len(rows) - 1
    notes = [b["备注"] for b in body if b["准考证号"] == said_no[0]]
    assert notes and "中介代办后邮寄" in notes[0]
    before = _callback_findings(RECORDS / "callbacks.csv")
    after = _callback_findings(merged)
    assert before != after
    assert {("callback_not_in_person", c) for c in said_no} <= after
    assert not any(k == "callback_not_in_person" for k, _ in before)
    # importing the same answers again adds nothing
    assert main(["callbacks", "import", str(out), "--existing", str(merged), "--out", str(tmp_path / "again.csv")]) == 0
    assert "0 call(s) added" in capsys.readouterr().out


def test_bad_answer_names_sheet_row_and_value(tmp_path, capsys):
    out, _, _ = _plan(tmp_path, capsys)
    first = _rows(out)[1]["准考证号"]
    _answer(out, {first: {"回访时间": "2024-06-28 10:00", "回访结果": "接通", "是否本人参考": "也许"}})
    with pytest.raises(InputError) as e:
        read_call_outcomes(out)
    assert "回访名单 row 3" in str(e.value) and "也许" in str(e.value)
    assert main(["callbacks", "import", str(out), "--out", str(tmp_path / "cb.csv")]) == 2
    assert not (tmp_path / "cb.csv").exists()


def test_unknown_exam_point_is_bad_input(tmp_path, capsys):
    assert main(["callbacks", "plan", "--roster", str(RECORDS / "roster.csv"), "--exam-point", "EP-XX-99",
                 "--session", "S1", "--out", str(tmp_path / "c.xlsx")]) == 2
    assert "EP-XX-99" in capsys.readouterr().err


@pytest.mark.slow
def test_call_list_from_a_real_audit_of_the_sample_exam_point(tmp_path, capsys):
    """End to end on the committed sample: `examaudit audit` (video + records), then the call list."""
    assert main(["audit", str(REPO / "sample_media" / EP), "--out", str(tmp_path / "audit"), "--workers", "1"]) == 0
    capsys.readouterr()
    out = tmp_path / "calls.xlsx"
    assert main(["callbacks", "plan", "--roster", str(RECORDS / "roster.csv"), "--findings", str(tmp_path / "audit"),
                 "--exam-point", EP, "--session", "S1", "--out", str(out)]) == 0
    from examaudit.commands.callbacks import load_findings

    found = load_findings([tmp_path / "audit"])
    absent = {f.candidate_id for f in found if f.kind == FindingKind.absent_candidate}
    listed = {r["准考证号"] for r in _rows(out) if r["列入原因"] != "对照抽样（随机）"}
    assert absent and absent <= listed
