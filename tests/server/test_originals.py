"""Issue #18 item 10: originals are read-only, and one that changed after it was received stops
the audit of its exam point with a high-severity ``evidence_integrity`` finding (no report built
on changed footage)."""

from __future__ import annotations

import os
import stat

from .exam_point_zips import exam_point_zip


def _flip_a_byte(path) -> None:
    os.chmod(path, 0o644)  # what someone changing the evidence would have to do first
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0xFF]))


def test_originals_are_read_only_and_a_changed_one_stops_the_audit(server, tmp_path):
    h = server.login("ana", "auditor")
    server.import_zip(h, exam_point_zip(tmp_path))
    server.run_jobs()
    before = server.client.get("/api/v1/exam-points/EP-T-01/findings", headers=h).json()
    assert before and all(f["kind"] != "evidence_integrity" for f in before)

    originals = [p for p in (server.data_dir / "originals").iterdir() if p.is_file()]
    assert originals
    for p in originals:
        assert not p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), p

    footage = max(originals, key=lambda p: p.stat().st_size)  # the clip, not the YAML
    _flip_a_byte(footage)
    r = server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h)
    assert r.status_code == 202, r.text
    server.run_jobs()

    after = server.client.get("/api/v1/exam-points/EP-T-01/findings", headers=h).json()
    assert [f["kind"] for f in after] == ["evidence_integrity"], after
    assert after[0]["severity"] == "high" and "R1-C1.mp4" in after[0]["reason_zh"]
    job = server.client.get("/api/v1/exam-points/EP-T-01", headers=h).json()["jobs"][-1]
    assert job["state"] == "done" and "audit stopped" in job["message"], job
    # the report now says why it stopped; none of the earlier footage findings is reported on
    report = server.client.get("/api/v1/exam-points/EP-T-01/report.html", headers=h)
    assert report.status_code == 200 and "原始证据被改动" in report.text
    assert not any(f["reason_zh"] and f["reason_zh"][:20] in report.text for f in before)


def test_check_originals_names_changed_and_missing_files(tmp_path):
    from examaudit.audit import check_originals
    from examaudit.outputs import sha256_file

    (tmp_path / "a.mp4").write_bytes(b"footage")
    (tmp_path / "b.xlsx").write_bytes(b"records")
    good = {"a.mp4": sha256_file(tmp_path / "a.mp4"), "b.xlsx": sha256_file(tmp_path / "b.xlsx")}
    assert check_originals(good, tmp_path) == []
    (tmp_path / "a.mp4").write_bytes(b"footagf")
    (tmp_path / "b.xlsx").unlink()
    changed = check_originals(good, tmp_path)
    assert [(c["file"], c["expected"], c["found"] is None) for c in changed] == [
        ("a.mp4", good["a.mp4"], False), ("b.xlsx", good["b.xlsx"], True)]


def test_an_original_changed_after_the_audit_stops_the_next_report_and_pack_build(server, tmp_path):
    h = server.login("ana", "auditor")
    server.import_zip(h, exam_point_zip(tmp_path))
    server.run_jobs()
    before = server.client.get("/api/v1/exam-points/EP-T-01/findings", headers=h).json()
    assert server.client.get("/api/v1/exam-points/EP-T-01/evidence-pack.zip", headers=h).status_code == 200

    footage = max((p for p in (server.data_dir / "originals").iterdir()), key=lambda p: p.stat().st_size)
    _flip_a_byte(footage)
    # a review changes what the report says, so the next download rebuilds report and pack
    r = server.client.post(f"/api/v1/findings/{before[0]['id']}/review", headers=server.login("rita", "reviewer"),
                           json={"decision": "confirmed", "comment": ""})
    assert r.status_code == 200, r.text
    r = server.client.get("/api/v1/exam-points/EP-T-01/evidence-pack.zip", headers=h)
    assert r.status_code == 200, r.text[:300]
    after = server.client.get("/api/v1/exam-points/EP-T-01/findings", headers=h).json()
    assert [f["kind"] for f in after] == ["evidence_integrity"] and after[0]["severity"] == "high"
    custody = (server.data_dir / "exam_points" / "EP-T-01" / "audit" / "custody.jsonl").read_text(encoding="utf-8")
    assert "evidence integrity check failed" in custody
