"""Cases and call lists through the API: a case opened from two confirmed findings shows up in
the next 附表1 under its city; rectification and overdue; 典型案例 without personal data; call
lists with masked phones and logged reveals; answers applied change the callback findings."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from .exam_point_zips import exam_point_folder, zip_folder

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "sample_media" / "records"
EP = "EP-WZ-02"


def _exam_point(server, tmp_path, h) -> None:
    """EP-WZ-02 as the server gets it: a tiny clip with a gap, and the province records (no responses)."""
    folder = exam_point_folder(tmp_path, EP, "温州市")
    (folder / "records").mkdir()
    for name in ("roster.csv", "scores.csv", "callbacks.csv", "certificates.csv"):
        shutil.copy(RECORDS / name, folder / "records" / name)
    server.import_zip(h, zip_folder(folder))
    server.run_jobs()


def _findings(server, h) -> list[dict]:
    r = server.client.get(f"/api/v1/exam-points/{EP}/findings", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def ready(server, tmp_path):
    h = server.login("ana", "auditor", city="温州市")
    _exam_point(server, tmp_path, h)
    return server, h


def test_case_from_two_confirmed_findings_shows_in_next_form1(ready):
    server, h = ready
    found = _findings(server, h)
    assert len(found) >= 2
    two = [found[0]["id"], found[1]["id"]]
    # unconfirmed findings do not open a case
    r = server.client.post(f"/api/v1/exam-points/{EP}/cases", headers=h, json={"finding_ids": two})
    assert r.status_code == 422 and "confirmed" in r.text
    rv = server.login("rui", "reviewer", city="温州市")
    for fid in two:
        assert server.client.post(f"/api/v1/findings/{fid}/review", headers=rv,
                                  json={"decision": "confirmed"}).status_code == 200
    before = server.client.get("/api/v1/form1", params={"month": "2024-06"}, headers=h).json()
    assert before["rows"] == [{"city": "温州市", "cells": [0] * 14}]  # a city account's form has its row
    r = server.client.post(f"/api/v1/exam-points/{EP}/cases", headers=h,
                           json={"finding_ids": two, "inspected_on": "2024-06-25", "due_on": "2024-07-10"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["city"] == "温州市" and case["unit_type"] == "考试机构" and case["exam_point"] == EP
    assert [p["finding_ids"] for p in case["problems"]] == [[two[0]], [two[1]]]
    # the reviewer may not open cases (auditor and up)
    assert server.client.post(f"/api/v1/exam-points/{EP}/cases", headers=rv, json={"finding_ids": two}).status_code == 403

    form = server.client.get("/api/v1/form1", params={"month": "2024-06"}, headers=h).json()
    assert form["period"] == {"start": "2024-05-01", "end": "2024-06-30"}
    assert [r["city"] for r in form["rows"]] == ["温州市"]
    cells = dict(zip([(c["unit_type"], c["title"]) for c in form["columns"]], form["rows"][0]["cells"]))
    assert cells[("考试机构", "开展执法检查的考试机构数量(家)")] == 1
    assert cells[("考试机构", "限期整改的考试机构数量(家)")] == 0  # no outcome yet
    # August's report does not count a June case
    aug = server.client.get("/api/v1/form1", params={"month": "2024-08"}, headers=h).json()
    assert aug["rows"][0]["cells"][11] == 0
    x = server.client.get("/api/v1/form1.xlsx", params={"month": "2024-06"}, headers=h)
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).worksheets[0]
    assert ws["A2"].value == "2024年6月份工作情况统计表" and ws["B6"].value == "温州市" and ws["N6"].value == 1
    # another city's account sees neither the case nor the city
    other = server.login("hz", "auditor", city="杭州市")
    assert server.client.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404
    assert server.client.get("/api/v1/form1", params={"month": "2024-06"}, headers=other).json()["rows"] == [
        {"city": "杭州市", "cells": [0] * 14}]

    # rectification: overdue after the due date, then done
    from datetime import date

    from examaudit.server.services.cases import case_view, get_visible_case
    from examaudit.server.security import Principal

    me = Principal(0, "ana", "auditor", "温州市", "token")
    with server.db.session() as s:
        v = case_view(get_visible_case(s, me, case["id"]), today=date(2024, 7, 11))
    assert v["overdue"] == 2
    pid = case["problems"][0]["id"]
    r = server.client.post(f"/api/v1/cases/{case['id']}/problems/{pid}", headers=h, json={"done_on": "2024-07-05"})
    assert r.status_code == 200 and r.json()["problems"][0]["rectified"] is True
    with server.db.session() as s:
        assert case_view(get_visible_case(s, me, case["id"]), today=date(2024, 7, 11))["overdue"] == 1
    aug = server.client.get("/api/v1/form1", params={"month": "2024-08"}, headers=h).json()
    assert aug["rows"][0]["cells"][13] == 1  # rectified in July: counted in August's report

    # outcome, close, 典型案例 (docx and md) without names, ID or phone numbers
    r = server.client.post(f"/api/v1/cases/{case['id']}/outcome", headers=h,
                           json={"outcomes": ["限期整改", "罚款"], "fine_wan": 2.5})
    assert r.status_code == 200 and r.json()["outcome_text"] == "罚款、限期整改"
    assert server.client.get(f"/api/v1/cases/{case['id']}/typical.docx", headers=h).status_code == 422  # not closed
    assert server.client.post(f"/api/v1/cases/{case['id']}/close", headers=h, json={"closed_on": "2024-07-20"}).status_code == 200
    d = server.client.get(f"/api/v1/cases/{case['id']}/typical.docx", headers=h)
    assert d.status_code == 200
    with zipfile.ZipFile(io.BytesIO(d.content)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    text = re.sub(r"<[^>]+>", "", xml)
    assert "某考试机构" in text and "测试考点" not in text
    import csv

    with open(RECORDS / "roster.csv", encoding="utf-8-sig") as fh:
        people = [r for r in csv.DictReader(fh) if r["考点"] == EP]
    for p in people:
        assert p["姓名"] not in text and p["身份证号"] not in text and p["手机号"] not in text
    assert not re.search(r"\d{17}[\dXx]|1[3-9]\d{9}", text)
    b = server.client.get("/api/v1/bulletin.docx", params={"quarter": "2024Q3"}, headers=h)
    assert b.status_code == 200 and "考试弄虚作假" in zipfile.ZipFile(io.BytesIO(b.content)).read("word/document.xml").decode()


def test_register_import_export_and_scope(server, tmp_path):
    h = server.login("prov", "auditor")
    sample = REPO / "sample_media" / "cases.csv"
    r = server.client.post("/api/v1/cases/import", headers=h, files={"file": ("cases.csv", sample.read_bytes(), "text/csv")})
    assert r.status_code == 200 and r.json()["added"] >= 30, r.text
    form = server.client.get("/api/v1/form1", params={"month": "2024-06"}, headers=h).json()
    assert [x["city"] for x in form["rows"]][:3] == ["杭州市", "宁波市", "温州市"]
    x = server.client.get("/api/v1/cases/export.xlsx", headers=h)
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["案件", "问题"] and wb["案件"].max_row == r.json()["added"] + 1
    wz = server.login("wz", "auditor", city="温州市")
    r = server.client.post("/api/v1/cases/import", headers=wz, files={"file": ("cases.csv", sample.read_bytes(), "text/csv")})
    assert r.status_code == 403
    assert {c["city"] for c in server.client.get("/api/v1/cases", headers=wz).json()} == {"温州市"}
    bad = server.client.post("/api/v1/cases/import", headers=h,
                             files={"file": ("r.csv", "地市,单位类型\nA,B\n".encode(), "text/csv")})
    assert bad.status_code == 422 and "missing column" in bad.text


def test_call_list_masks_phones_logs_reveals_and_answers_change_callback_findings(ready):
    server, h = ready
    r = server.client.post(f"/api/v1/exam-points/{EP}/callbacks", headers=h, json={"session": "S1", "seed": 3})
    assert r.status_code == 201, r.text
    plan = r.json()
    p = plan["parameters"]
    assert len(plan["calls"]) == p["flagged"] + p["n"] and p["n"] > 0
    assert all("*" in c["phone"] for c in plan["calls"])
    viewer = server.login("vi", "viewer", city="温州市")
    seen = server.client.get(f"/api/v1/callbacks/{plan['id']}", headers=viewer).json()
    assert all("*" in c["phone"] for c in seen["calls"]) and all("*" in c["name"] for c in seen["calls"] if c["name"])
    first = plan["calls"][0]
    page = server.client.get(f"/callbacks/{plan['id']}", headers=viewer)
    assert page.status_code == 200 and "Wilson" in page.text and "显示号码" not in page.text
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", page.text)
    assert server.client.get(f"/exam-points/{EP}/callbacks", headers=viewer).status_code == 200
    assert server.client.post(f"/api/v1/callbacks/{plan['id']}/calls/{first['id']}/phone", headers=viewer).status_code == 403
    full = server.client.post(f"/api/v1/callbacks/{plan['id']}/calls/{first['id']}/phone", headers=h).json()["phone"]
    assert re.fullmatch(r"1\d{10}", full)
    x = server.client.get(f"/api/v1/callbacks/{plan['id']}/calls.xlsx", headers=viewer)
    rows = list(openpyxl.load_workbook(io.BytesIO(x.content))["回访名单"].iter_rows(values_only=True))
    assert all("*" in r[3] for r in rows[1:])
    from examaudit.server.services.callbacks import reveals

    with server.db.session() as s:
        log = reveals(s, EP)
    assert [(e["user"], e["candidate_id"], e["via"]) for e in log] == [("ana", first["candidate_id"], "api")]
    admin = server.login("root", "admin")
    assert server.client.get("/api/v1/callbacks/reveals", headers=admin).json() == log
    assert server.client.get("/api/v1/callbacks/reveals", headers=h).status_code == 403

    # four candidates say someone else sat for them; the rest sat in person
    said_no = [c["candidate_id"] for c in plan["calls"][:4]]
    for k, c in enumerate(plan["calls"]):
        body = {"called_at": f"2024-06-28 10:{k:02d}", "outcome": "接通",
                "sat_exam_in_person": "否" if c["candidate_id"] in said_no else "是",
                "paid_intermediary": "是" if c["candidate_id"] in said_no else "否", "attended_training": "是"}
        a = server.client.post(f"/api/v1/callbacks/{plan['id']}/calls/{c['id']}", headers=h, json=body)
        assert a.status_code == 200, a.text
    bad = server.client.post(f"/api/v1/callbacks/{plan['id']}/calls/{first['id']}", headers=h,
                             json={"called_at": "2024-06-28 10:00", "outcome": "接通", "sat_exam_in_person": "也许"})
    assert bad.status_code == 422

    def callback_findings():
        return {(f["kind"], f["candidate_id"]) for f in _findings(server, h) if f["source"] == "callbacks"}

    before = callback_findings()
    r = server.client.post(f"/api/v1/exam-points/{EP}/callbacks/apply", headers=h)
    assert r.status_code == 200, r.text
    server.run_jobs()
    job = server.client.get(f"/api/v1/jobs/{r.json()['job']}", headers=h).json()
    assert job["state"] == "done", job
    after = callback_findings()
    assert before != after and {("callback_not_in_person", c) for c in said_no} <= after
