"""What benchmarks/bench_load.py found with 50 people browsing while audits ran (issue #18, item 8).

- The exam point page drew its records charts (matplotlib, seconds each) per findings.json version:
  every audit rerun made every open page draw them again, all at once, until the request threads
  ran out and the server stopped answering. They are drawn once per content, by one thread.
- pyplot's process-wide state was used from the job thread and request threads at the same time.
- A rerun replaced a recording's folder before its headcount frames were drawn again, so the
  finding still published pointed at a missing picture (404) for the whole rerun.
"""

from __future__ import annotations

import os
import threading
from multiprocessing.pool import ThreadPool

import pytest
from audit_fixture import build_audit_dir

from examaudit.server import pageviews


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    return build_audit_dir(tmp_path_factory.mktemp("page-load"))["audit"]


def test_records_charts_are_drawn_once_for_many_pages_and_audit_reruns(audit, monkeypatch):
    from examaudit.report import render

    drawn: list[str] = []
    real = render.draw_records_charts

    def counting(model):
        drawn.append(model.lang)
        threading.Event().wait(0.2)  # long enough for the other requests to arrive meanwhile
        return real(model)

    monkeypatch.setattr(render, "draw_records_charts", counting)
    monkeypatch.setattr(pageviews, "_CHARTS", {})
    with ThreadPool(8) as pool:
        pages = pool.map(lambda _: pageviews.exam_point_page(audit, "zh", False), range(8))
    assert drawn == ["zh"]
    assert any(pages[0].charts.values()) and all(p.charts == pages[0].charts for p in pages)

    # an audit rerun rewrites findings.json (new mtime); the records numbers are the same
    st = (audit / "findings.json").stat()
    os.utime(audit / "findings.json", ns=(st.st_atime_ns, st.st_mtime_ns + 10**10))
    assert pageviews.exam_point_page(audit, "zh", True).charts == pages[0].charts
    assert drawn == ["zh"]
    pageviews.exam_point_page(audit, "en", False)
    assert drawn == ["zh", "en"]


def test_charts_are_drawn_one_at_a_time():
    from examaudit.report import charts, render

    free_meanwhile = []

    def probe():
        t = threading.Thread(target=lambda: free_meanwhile.append(charts.PYPLOT_LOCK.acquire(blocking=False)))
        t.start()
        t.join()
        return "<svg/>"

    assert render._chart(probe).startswith("data:image/svg+xml")
    assert free_meanwhile == [False]


def test_a_rerun_keeps_the_headcount_frames_the_published_findings_show(tmp_path):
    from examaudit.audit import _keep_headcount_frames

    old, stage = tmp_path / "R1-C1", tmp_path / ".R1-C1.partial"
    (old / "frames").mkdir(parents=True)
    (stage / "frames").mkdir(parents=True)
    (old / "frames" / "R1-C1_headcount_mismatch_000000.00.jpg").write_bytes(b"old headcount")
    (old / "frames" / "R1-C1_footage_gap_000003.00.jpg").write_bytes(b"old gap")
    (stage / "frames" / "R1-C1_footage_gap_000003.00.jpg").write_bytes(b"new gap")
    _keep_headcount_frames(old, stage)
    assert sorted(p.name for p in (stage / "frames").iterdir()) == [
        "R1-C1_footage_gap_000003.00.jpg", "R1-C1_headcount_mismatch_000000.00.jpg"]
    assert (stage / "frames" / "R1-C1_footage_gap_000003.00.jpg").read_bytes() == b"new gap"


def test_evidence_views_do_not_wait_for_the_report_to_print(server, tmp_path, monkeypatch):
    """Each evidence view writes a custody entry under the custody log's lock; the report (seconds with
    the PDF) used to be printed holding it, so every picture a reviewer opened waited for the print."""
    from examaudit.report import render
    from examaudit.server.services import reports
    from examaudit.server.services.exam_points import audit_dir
    from examaudit.server.services.storage import custody_lock

    from .exam_point_zips import exam_point_zip

    h = server.login("ana", "auditor")
    code = server.import_zip(h, exam_point_zip(tmp_path))["code"]
    server.run_jobs()
    lock = custody_lock(audit_dir(server.app.state.settings, code) / "custody.jsonl")
    free_while_printing = []
    real = render.render_report

    def probe(*a, **kw):
        t = threading.Thread(target=lambda: free_while_printing.append(lock.acquire(timeout=0.5) and not lock.release()))
        t.start()
        t.join()
        return real(*a, **kw)

    monkeypatch.setattr(render, "render_report", probe)
    reports.regenerate(server.app.state, code)
    assert free_while_printing == [True]


def test_dashboard_shows_each_exam_points_newest_job(server, tmp_path):
    """The dashboard reads only the newest job of each exam point (the bench adds one per audit)."""
    import re

    from .exam_point_zips import exam_point_zip

    h = server.login("ana", "auditor")
    server.import_zip(h, exam_point_zip(tmp_path))
    server.run_jobs()
    server.cookie_login("vi", "viewer")

    def row() -> str:
        page = server.client.get("/", headers={"Accept": "text/html"}).text
        return re.search(r'<tr data-exam-point="EP-T-01">(.*?)</tr>', page, re.S).group(1)

    assert "已完成" in row()
    assert server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h).status_code == 202  # stays queued
    assert "排队中" in row() and "已完成" not in row()


def test_audit_processes_come_from_the_environment(tmp_path, monkeypatch):
    """EXAMAUDIT_JOB_AUDIT_WORKERS=2 analyses an audit's recordings in processes, off the server's GIL."""
    from examaudit.server.settings import Settings

    monkeypatch.delenv("EXAMAUDIT_JOB_AUDIT_WORKERS", raising=False)
    assert Settings.from_env(tmp_path).job_audit_workers == 1
    monkeypatch.setenv("EXAMAUDIT_JOB_AUDIT_WORKERS", "2")
    assert Settings.from_env(tmp_path).job_audit_workers == 2
    assert Settings.from_env(tmp_path, job_audit_workers=3).job_audit_workers == 3  # an explicit value wins
