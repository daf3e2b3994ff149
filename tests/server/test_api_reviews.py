"""Review decisions: shown in findings, kept with history, applied to the rebuilt report and pack."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from examaudit.custody import check_chain, read_custody

from .exam_point_zips import exam_point_zip


def _audited(server, tmp_path, headers):
    ep_id = server.import_zip(headers, exam_point_zip(tmp_path))["exam_point"]
    server.run_jobs()
    return ep_id, server.client.get(f"/api/v1/exam-points/{ep_id}/findings", headers=headers).json()


def test_review_shows_in_findings_report_and_pack(server, tmp_path):
    from examaudit.cli import main

    auditor = server.login("ana", "auditor")
    reviewer = server.login("rev", "reviewer")
    viewer = server.login("vi", "viewer")
    ep_id, found = _audited(server, tmp_path, auditor)
    gap = next(f for f in found if f["kind"] == "footage_gap")
    before = server.client.get(f"/api/v1/exam-points/{ep_id}", headers=viewer).json()["risk"]
    html0 = server.client.get(f"/api/v1/exam-points/{ep_id}/report.html", headers=viewer).text
    assert "复核：已排除" not in html0

    url = f"/api/v1/findings/{gap['id']}/review"
    assert server.client.post(url, headers=viewer, json={"decision": "confirmed"}).status_code == 403
    assert server.client.post(url, headers=reviewer, json={"decision": "maybe"}).status_code == 422
    assert server.client.post(url, headers=reviewer, json={"decision": "dismissed"}).status_code == 422  # no reason
    r = server.client.post(url, headers=reviewer, json={"decision": "unsure", "comment": "待核实"})
    assert r.status_code == 200 and r.json()["review"]["decision"] == "unsure"
    r = server.client.post(url, headers=reviewer, json={"decision": "dismissed", "comment": "考点停电，已核实供电记录"})
    assert r.status_code == 200
    assert [h["decision"] for h in r.json()["history"]] == ["unsure", "dismissed"]
    assert all(h["by"] == "rev" for h in r.json()["history"])

    again = server.client.get(f"/api/v1/exam-points/{ep_id}/findings", headers=viewer).json()
    review = next(f for f in again if f["id"] == gap["id"])["review"]
    assert review["decision"] == "dismissed" and review["comment"] == "考点停电，已核实供电记录" and review["by"] == "rev"

    html = server.client.get(f"/api/v1/exam-points/{ep_id}/report.html", headers=viewer).text
    assert "复核：已排除" in html and "考点停电，已核实供电记录" in html and "不计入风险" in html
    after = server.client.get(f"/api/v1/exam-points/{ep_id}", headers=viewer).json()["risk"]
    assert after < before  # the dismissed finding no longer counts

    pack = server.client.get(f"/api/v1/exam-points/{ep_id}/evidence-pack.zip", headers=viewer)
    assert pack.status_code == 200
    path = tmp_path / "pack.zip"
    path.write_bytes(pack.content)
    assert main(["verify", str(path)]) == 0
    with zipfile.ZipFile(io.BytesIO(pack.content)) as zf:
        name = next(n for n in zf.namelist() if n.endswith("data/reviews.json"))
        assert json.loads(zf.read(name))["reviews"][0]["decision"] == "dismissed"

    custody = server.data_dir / "exam_points" / "EP-T-01" / "audit" / "custody.jsonl"
    log = read_custody(custody)
    downloads = [e for e in log if e["action"] == "downloaded"]
    assert {e["note"] for e in downloads} >= {"report.html downloaded by vi", "evidence_pack.zip downloaded by vi"}
    assert all(e["actor"].startswith("vi ") for e in downloads)
    assert any(e["action"] == "review decisions applied" for e in log)
    assert check_chain(custody) == []


def test_decision_survives_a_rerun(server, tmp_path):
    auditor = server.login("ana", "auditor")
    ep_id, found = _audited(server, tmp_path, auditor)
    fid = found[0]["id"]
    server.client.post(f"/api/v1/findings/{fid}/review", headers=auditor, json={"decision": "confirmed"})
    r = server.client.post(f"/api/v1/exam-points/{ep_id}/audits", headers=auditor)
    assert r.status_code == 202
    server.run_jobs()
    again = server.client.get(f"/api/v1/exam-points/{ep_id}/findings", headers=auditor).json()
    assert next(f for f in again if f["id"] == fid)["review"]["decision"] == "confirmed"


def test_personal_numbers_masked_below_auditor():
    from examaudit.findings import Finding, FindingKind, Severity, Source
    from examaudit.server.security import Principal
    from examaudit.server.services.reviews import finding_view

    f = Finding.create(kind=FindingKind.video_unreadable, source=Source.video, severity=Severity.high,
                       exam_point="EP-T-01", confidence=1.0,
                       reason_zh="考生 11010519491231002X 电话 13812345678", reason_en="id 11010519491231002X",
                       details={"id_number": "11010519491231002X", "phone": "13812345678"})
    for role in ("viewer", "reviewer"):
        d = finding_view(f, None, Principal(1, "x", role, None, "token"))
        text = json.dumps(d, ensure_ascii=False)
        assert "11010519491231002X" not in text and "13812345678" not in text and "110105" in text
    d = finding_view(f, None, Principal(1, "x", "auditor", None, "token"))
    assert d["details"]["id_number"] == "11010519491231002X"


def test_cancel_a_queued_job(server, tmp_path):
    auditor = server.login("ana", "auditor")
    job = server.import_zip(auditor, exam_point_zip(tmp_path))["job"]
    assert server.client.post(f"/api/v1/jobs/{job}/cancel", headers=server.login("v", "viewer")).status_code == 403
    c = server.client.post(f"/api/v1/jobs/{job}/cancel", headers=auditor).json()
    assert c["state"] == "cancelled"
    server.run_jobs()
    assert server.client.get(f"/api/v1/jobs/{job}", headers=auditor).json()["state"] == "cancelled"


def _queued_job(server, tmp_path, auditor) -> int:
    return server.import_zip(auditor, exam_point_zip(tmp_path))["job"]


def _while_uncommitted(server, write, other):
    """``write(session)`` flushed but not committed while ``other()`` runs in a thread; its result."""
    import threading

    out = {}
    s = server.db.sessions()
    write(s)
    s.flush()
    t = threading.Thread(target=lambda: out.update(result=other()))
    t.start()
    t.join(0.5)  # time for ``other`` to read the row if nothing stops it
    s.commit()
    s.close()
    t.join()
    return out["result"]


def test_a_worker_starting_a_job_being_cancelled_sees_the_cancel(server, tmp_path):
    # Before the conditional UPDATEs (both databases): the worker read "queued" while a cancel was
    # being written, then ran the job the auditor had just been told was cancelled.
    from examaudit.server.models import Job
    from examaudit.server.services import jobs as svc

    auditor = server.login("ana", "auditor")
    job_id = _queued_job(server, tmp_path, auditor)
    resumed = _while_uncommitted(server, lambda s: svc.cancel_job(s, s.get(Job, job_id)),
                                 lambda: svc._start(server.db, job_id))
    assert resumed is None  # the worker saw the cancel and does not run the job
    assert server.client.get(f"/api/v1/jobs/{job_id}", headers=auditor).json()["state"] == "cancelled"


def test_a_cancel_while_the_worker_starts_the_job_asks_it_to_stop(server, tmp_path):
    # The other order: the cancel read "queued" while the worker was writing "running", wrote "cancelled"
    # over it, and the job ran on to "done" (nothing asked it to stop).
    from examaudit.server.models import Job
    from examaudit.server.services import jobs as svc

    auditor = server.login("ana", "auditor")
    job_id = _queued_job(server, tmp_path, auditor)

    def worker_starts(s):
        job = s.get(Job, job_id, with_for_update=True)
        job.state = "running"

    cancelled = _while_uncommitted(server, worker_starts,
                                   lambda: server.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=auditor).json())
    assert cancelled["state"] == "running"
    with server.db.session() as s:
        job = s.get(Job, job_id)
        assert (job.state, job.cancel_requested) == ("running", True)


def test_cancel_a_running_job_stops_it(server, tmp_path):
    """A cancel sent while the job runs stops it at its next progress report."""
    from examaudit.server.models import Job
    from examaudit.server.services import jobs as svc

    auditor = server.login("ana", "auditor")
    job_id = server.import_zip(auditor, exam_point_zip(tmp_path))["job"]
    real = svc._Progress.__call__
    seen = []

    def cancel_midway(self, value, message=None, force=False):
        seen.append(value)
        if len(seen) == 2:  # the job is running: an auditor presses cancel now
            with server.db.session() as s:
                svc.cancel_job(s, s.get(Job, job_id))
        return real(self, value, message, force=True)

    svc._Progress.__call__ = cancel_midway
    try:
        server.run_jobs()
    finally:
        svc._Progress.__call__ = real
    assert server.client.get(f"/api/v1/jobs/{job_id}", headers=auditor).json()["state"] == "cancelled"
