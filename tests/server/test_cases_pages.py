"""The browser path: a case opened on the page from two confirmed findings shows in the next 附表1
under its city; overdue rectification is highlighted; the call list page masks phones."""

from __future__ import annotations

import re
from datetime import date, timedelta

from examaudit.findings import Finding, FindingKind, FindingsDocument, RunInfo, Severity, Source, now_utc, write_findings

EP, CITY = "EP-WZ-09", "温州市"


def _exam_point_with_findings(server) -> list[str]:
    """An exam point row and its audit folder's findings.json (generated input: two video findings)."""
    from examaudit.server.models import ExamPoint
    from examaudit.server.services.exam_points import audit_dir

    with server.db.session() as s:
        s.add(ExamPoint(code=EP, name="温州某考点", city=CITY, config_path="none.yaml", created_by="test"))
    fs = [Finding.create(kind=k, source=Source.video, severity=Severity.high, exam_point=EP, candidate_id=c,
                         confidence=0.9, reason_zh=f"考生{c}座位空置。", reason_en="Seat empty.", details={"key": c})
          for k, c in ((FindingKind.absent_candidate, "EP-WZ-09-S1-003"), (FindingKind.candidate_left, "EP-WZ-09-S1-007"))]
    out = audit_dir(server.app.state.settings, EP)
    out.mkdir(parents=True)
    write_findings(FindingsDocument(run=RunInfo(command="test", started_at=now_utc(), finished_at=now_utc()), findings=fs),
                   out / "findings.json")
    return [f.id for f in fs]


def test_case_opened_in_the_browser_shows_in_next_form1(server):
    ids = _exam_point_with_findings(server)
    csrf = server.cookie_login("ana", "auditor", city=CITY)
    c = server.client
    for fid in ids:
        assert c.post(f"/api/v1/findings/{fid}/review", json={"decision": "confirmed"},
                      headers={"X-CSRF-Token": csrf}).status_code == 200
    page = c.get(f"/exam-points/{EP}/cases/new")
    assert page.status_code == 200 and all(fid in page.text for fid in ids)
    # without the CSRF field the form is refused
    assert c.post(f"/exam-points/{EP}/cases", data={"finding_ids": ids}, follow_redirects=False).status_code == 403
    due = (date.today() - timedelta(days=1)).isoformat()
    r = c.post(f"/exam-points/{EP}/cases", data={"csrf_token": csrf, "finding_ids": ids, "inspected_on": "2024-06-25",
                                                 "due_on": due, "unit_type": "考试机构"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    case_url = r.headers["location"]
    page = c.get(case_url)
    assert page.status_code == 200 and page.text.count('class="overdue" data-testid="problem"') == 2
    listing = c.get("/cases")
    assert 'class="overdue"' in listing.text and "逾期 2 项" in listing.text
    form = c.get("/form1", params={"month": "2024-06"})
    assert form.status_code == 200
    row = re.search(r"<tr><td>1</td><td>温州市</td>(.*?)</tr>", form.text)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1])
    assert len(cells) == 14 and cells[11] == "1"
    assert "2024年5月1日至2024年6月30日" in form.text
    # rectify one problem: one overdue left
    pid = re.search(r'action="/cases/\d+/problems/(\d+)"', page.text)[1]
    assert c.post(f"{case_url}/problems/{pid}", data={"csrf_token": csrf, "done_on": "2024-07-01"},
                  follow_redirects=False).status_code == 303
    assert c.get(case_url).text.count('class="overdue" data-testid="problem"') == 1
    bad = c.get("/form1", params={"month": "2024-07"})
    assert "not a reporting month" in bad.text


def test_viewer_sees_cases_but_cannot_change_them(server):
    _exam_point_with_findings(server)
    csrf = server.cookie_login("vi", "viewer", city=CITY)
    assert server.client.get("/cases").status_code == 200
    assert server.client.get(f"/exam-points/{EP}/cases/new", follow_redirects=False).status_code in (403, 303)
    r = server.client.post(f"/exam-points/{EP}/cases", data={"csrf_token": csrf, "finding_ids": ["x"]},
                           follow_redirects=False)
    assert r.status_code == 403
