"""A real `examaudit serve`: import through the API, progress rising, kill -9 mid-job and restart.

All are slow (real processes, real audits; run with ``pytest -m slow tests/server/test_api_serve.py``).
Two use small generated clips and fast settings (no person detector, no PDF); the last imports
sample_media/EP-WZ-02 exactly as a user would. The default suite covers the same paths through
TestClient (test_api_exam_points.py, test_api_reviews.py).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from conftest import write_test_clip

from .conftest import add_user_cli

REPO = Path(__file__).resolve().parents[2]
YAML3 = """
exam_point: EP-T-03
name: 三路录像测试考点
city: 温州市
sessions:
  - {id: S1, start: "2024-06-20 09:00", end: "2024-06-20 09:02"}
rooms:
  - id: R1
    cameras:
      - {id: C1, footage: [footage/R1-C1.mp4], footage_start: "2024-06-20 09:00:00"}
      - {id: C2, footage: [footage/R1-C2.mp4], footage_start: "2024-06-20 09:00:00"}
      - {id: C3, footage: [footage/R1-C3.mp4], footage_start: "2024-06-20 09:00:00"}
"""


def three_camera_zip(root: Path) -> bytes:
    ep = root / "EP-T-03"
    (ep / "footage").mkdir(parents=True, exist_ok=True)
    (ep / "exam_point.yaml").write_text(YAML3, encoding="utf-8")
    for i, skip in enumerate([(10.0, 14.0), None, (25.0, 29.0)], start=1):
        write_test_clip(ep / "footage" / f"R1-C{i}.mp4", seconds=40, fps=5, size=(160, 96), skip=skip)
    return _zip({p.relative_to(root).as_posix(): p for p in ep.rglob("*") if p.is_file()})


def _zip(files: dict[str, Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in sorted(files.items()):
            zf.write(path, name)
    return buf.getvalue()


def import_zip(srv, h, data: bytes) -> dict:
    r = httpx.post(srv.url + "/api/v1/exam-points/import", headers=h,
                   files={"file": ("ep.zip", data, "application/zip")}, timeout=120)
    assert r.status_code == 202, r.text
    return r.json()


def watch(srv, h, job: int, until=("done", "failed", "cancelled"), timeout: float = 600, stop=None) -> list[dict]:
    """Poll the job; returns every state seen (stops early when ``stop(state)`` is true)."""
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        j = httpx.get(f"{srv.url}/api/v1/jobs/{job}", headers=h, timeout=30).json()
        seen.append(j)
        if j["state"] in until or (stop and stop(j)):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not finish in {timeout} s: {seen[-1]}")


def comparable(findings: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in f.items() if k != "review"} for f in findings), key=lambda f: f["id"])


@pytest.mark.slow  # about a minute on a loaded 2-core machine
def test_import_through_serve_progress_rises(live_server, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    add_user_cli(data, "admin", "admin")
    srv = live_server(data)
    h = srv.token("admin")
    out = import_zip(srv, h, three_camera_zip(tmp_path))
    seen = watch(srv, h, out["job"])
    assert seen[-1]["state"] == "done" and seen[-1]["progress"] == 1.0, seen[-1]
    values = [j["progress"] for j in seen]
    assert values == sorted(values)  # never backwards
    assert len({v for v in values if 0 < v < 1}) >= 2, values  # moves while it runs, not only at the end
    assert any(j["state"] == "running" for j in seen)
    found = httpx.get(f"{srv.url}/api/v1/exam-points/{out['exam_point']}/findings", headers=h).json()
    assert {(f["camera"], f["kind"]) for f in found} >= {("C1", "footage_gap"), ("C3", "footage_gap")}
    health = httpx.get(srv.url + "/healthz").json()
    assert health["database"] == "ok" and health["queue_depth"] == 0 and health["disk_free_bytes"] > 0


def _kill_mid_job_then_finish(live_server, data: Path, zip_bytes: bytes, fast: bool) -> tuple[list[dict], dict]:
    data.mkdir()
    add_user_cli(data, "admin", "admin")
    srv = live_server(data, fast=fast)
    h = srv.token("admin")
    out = import_zip(srv, h, zip_bytes)
    # Past 0.34 the first of three recordings is finished (analysis is 0..0.85); before 0.8 the last is not.
    seen = watch(srv, h, out["job"], stop=lambda j: j["state"] == "running" and 0.34 < j["progress"] < 0.8)
    assert seen[-1]["state"] == "running", seen[-1]  # killed while it runs
    srv.kill9()
    srv2 = live_server(data, fast=fast)
    h = srv2.token("admin")
    seen = watch(srv2, h, out["job"])
    assert seen[-1]["state"] == "done", seen[-1]
    found = httpx.get(f"{srv2.url}/api/v1/exam-points/{out['exam_point']}/findings", headers=h).json()
    audit = json.loads((data / "exam_points" / out_code(found) / "audit" / "audit.json").read_text(encoding="utf-8"))
    return found, {"job": seen[-1], "audit": audit}


def out_code(found: list[dict]) -> str:
    return found[0]["exam_point"]


def _uninterrupted(live_server, data: Path, zip_bytes: bytes, fast: bool) -> list[dict]:
    data.mkdir()
    add_user_cli(data, "admin", "admin")
    srv = live_server(data, fast=fast)
    h = srv.token("admin")
    out = import_zip(srv, h, zip_bytes)
    assert watch(srv, h, out["job"])[-1]["state"] == "done"
    found = httpx.get(f"{srv.url}/api/v1/exam-points/{out['exam_point']}/findings", headers=h).json()
    srv.stop()
    return found


@pytest.mark.slow  # two servers, three audits: minutes on a loaded machine
def test_kill9_mid_job_then_restart_gives_the_same_findings(live_server, tmp_path):
    zip_bytes = three_camera_zip(tmp_path)
    killed, facts = _kill_mid_job_then_finish(live_server, tmp_path / "killed", zip_bytes, fast=True)
    whole = _uninterrupted(live_server, tmp_path / "whole", zip_bytes, fast=True)
    assert comparable(killed) == comparable(whole)
    statuses = [r["status"] for r in facts["audit"]["recordings"]]
    assert "reused" in statuses, statuses  # what finished before the kill was not analysed twice


def wz02_zip(tmp_path: Path) -> bytes:
    """sample_media/EP-WZ-02 with the records folder its YAML names (../records), as a user would zip them."""
    sm = REPO / "sample_media"
    files = {f"EP-WZ-02/{p.relative_to(sm / 'EP-WZ-02').as_posix()}": p
             for p in (sm / "EP-WZ-02").rglob("*") if p.is_file()}
    files.update({f"records/{p.name}": p for p in (sm / "records").iterdir() if p.is_file()})
    return _zip(files)


@pytest.mark.slow
def test_wz02_import_finds_what_the_demo_finds_and_survives_kill9(live_server, tmp_path):
    from examaudit.audit import run_audit

    ref = run_audit(REPO / "sample_media" / "EP-WZ-02", tmp_path / "demo")  # what `examaudit demo` audits
    zip_bytes = wz02_zip(tmp_path)
    whole = _uninterrupted(live_server, tmp_path / "whole", zip_bytes, fast=False)
    assert {f.id for f in ref.findings} <= {f["id"] for f in whole}
    killed, facts = _kill_mid_job_then_finish(live_server, tmp_path / "killed", zip_bytes, fast=False)
    assert comparable(killed) == comparable(whole)
