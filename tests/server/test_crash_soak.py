"""Crash soak of `examaudit serve` (issue #18 item 6): kill -9 the server at random moments
during an audit of the sample exam point, restart it each time; at the end the findings equal
an uninterrupted run's, the custody chain verifies, the evidence pack verifies, and no job is
left queued or running.

Slow (real servers, the sample exam point with everything on, minutes):

    .venv/bin/python -m pytest -m slow -o addopts="" -s tests/server/test_crash_soak.py

``EXAMAUDIT_SOAK_SEED`` replays the kill moments, ``EXAMAUDIT_SOAK_KILLS`` sets how many (10).
The default suite runs the command line's short soak (tests/test_crash_soak.py).
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from crash_soak import SoakLog, broken_chains, soak_kills, soak_seed, stale_stages
from examaudit.report.pack import verify_pack

from .conftest import add_user_cli
from .test_api_serve import comparable, import_zip, watch, wz02_zip


def _job(srv, h, job: int) -> dict:
    return httpx.get(f"{srv.url}/api/v1/jobs/{job}", headers=h, timeout=30).json()


def _round(live_server, data: Path, zip_bytes: bytes, *, kills_left: int, span_s: float, rng: random.Random,
           log: SoakLog):
    """One audit from an empty data folder: kill -9 at U(0, span_s) after each (re)start once the job
    runs, while kills are left and the job is not done; then let it finish. Returns the findings
    and the audit folder."""
    data.mkdir()
    add_user_cli(data, "admin", "admin")
    srv = live_server(data, fast=False)
    h = srv.token("admin")
    out = import_zip(srv, h, zip_bytes)
    job = out["job"]
    killed = 0
    while killed < kills_left:
        moment = rng.uniform(0, span_s)
        watch(srv, h, job, stop=lambda j: j["state"] == "running")
        end = time.monotonic() + moment
        while time.monotonic() < end and _job(srv, h, job)["state"] == "running":
            time.sleep(0.05)
        if _job(srv, h, job)["state"] != "running":
            break  # the job ended before this moment: the round is over
        srv.kill9()
        log.kills += 1
        log.moments.append(moment)
        killed += 1
        srv = live_server(data, fast=False)
        log.starts += 1
        h = srv.token("admin")
    seen = watch(srv, h, job)
    assert seen[-1]["state"] == "done", seen[-1]
    found = httpx.get(f"{srv.url}/api/v1/exam-points/{out['exam_point']}/findings", headers=h, timeout=60).json()
    jobs = httpx.get(f"{srv.url}/api/v1/exam-points/{out['exam_point']}", headers=h, timeout=60).json()["jobs"]
    health = httpx.get(srv.url + "/healthz", timeout=30).json()
    srv.stop()
    log.rounds += 1
    return found, data / "exam_points" / out["code"] / "audit", jobs, health


@pytest.mark.slow  # many server starts and audits of the sample exam point: several minutes
def test_serve_survives_ten_kills_during_an_audit_of_the_sample_exam_point(live_server, tmp_path):
    zip_bytes = wz02_zip(tmp_path)
    whole, _, ref_jobs, _ = _round(live_server, tmp_path / "whole", zip_bytes, kills_left=0, span_s=0,
                                   rng=random.Random(0), log=SoakLog(0))
    reference = comparable(whole)
    # The kill moments' range: how long the uninterrupted job ran.
    span = (datetime.fromisoformat(ref_jobs[0]["finished_at"]) - datetime.fromisoformat(ref_jobs[0]["started_at"])
            ).total_seconds()

    log = SoakLog(soak_seed())
    rng, kills = random.Random(log.seed), soak_kills(10)
    t0 = time.monotonic()
    while log.kills < kills:
        log.starts += 1
        found, audit, jobs, health = _round(live_server, tmp_path / f"round{log.rounds}", zip_bytes,
                                            kills_left=kills - log.kills, span_s=span, rng=rng, log=log)
        assert comparable(found) == reference
        assert broken_chains(audit) == {}
        assert [s for s in stale_stages(audit) if (audit / s).is_dir()] == []
        pack = verify_pack(audit / "evidence_pack.zip")
        assert pack.ok, pack.lines()
        assert [j["state"] for j in jobs] == ["done"], jobs  # none stuck queued or running
        assert health["queue_depth"] == 0, health
    log.seconds = time.monotonic() - t0
    print(log.line(f"serve, audit of EP-WZ-02 (uninterrupted job {span:.0f} s)"))
