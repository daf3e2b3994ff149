"""Import, audit jobs, findings, city scope and hostile zips, through the API (TestClient)."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest

from .exam_point_zips import YAML, exam_point_folder, exam_point_zip, zip_folder


def _import(server, headers, data: bytes, name="ep.zip"):
    return server.client.post("/api/v1/exam-points/import", headers=headers,
                              files={"file": (name, data, "application/zip")})


def test_import_runs_the_audit_and_reruns_reuse_recordings(server, tmp_path):
    h = server.login("ana", "auditor")
    data = exam_point_zip(tmp_path)
    r = _import(server, h, data)
    assert r.status_code == 202, r.text
    ep_id, job_id = r.json()["exam_point"], r.json()["job"]
    assert server.client.get(f"/api/v1/jobs/{job_id}", headers=h).json()["state"] == "queued"
    server.run_jobs()
    job = server.client.get(f"/api/v1/jobs/{job_id}", headers=h).json()
    assert job["state"] == "done" and job["progress"] == 1.0 and job["finished_at"], job
    found = server.client.get(f"/api/v1/exam-points/{ep_id}/findings", headers=h).json()
    kinds = {f["kind"] for f in found}
    assert "footage_gap" in kinds
    assert all(f["review"] == {"decision": None, "comment": None, "by": None, "at": None} for f in found)
    listed = server.client.get("/api/v1/exam-points", headers=h).json()
    assert [e["code"] for e in listed] == ["EP-T-01"] and listed[0]["status"] == "done"
    assert listed[0]["findings"] == len(found) and listed[0]["risk"] > 0

    # the originals are stored once, read-only, by sha256
    originals = list((server.data_dir / "originals").iterdir())
    assert len(originals) == 2 and all(not (p.stat().st_mode & stat.S_IWUSR) for p in originals)

    # the same zip again: a new audit, the recording reused, the same finding ids
    r2 = _import(server, h, data)
    assert r2.status_code == 202 and r2.json()["exam_point"] == ep_id and r2.json()["job"] != job_id
    server.run_jobs()
    job2 = server.client.get(f"/api/v1/jobs/{r2.json()['job']}", headers=h).json()
    assert job2["state"] == "done" and "reused 1" in job2["message"], job2
    again = server.client.get(f"/api/v1/exam-points/{ep_id}/findings", headers=h).json()
    assert sorted(f["id"] for f in again) == sorted(f["id"] for f in found)
    assert len(list((server.data_dir / "originals").iterdir())) == 2


def test_bad_yaml_is_422_with_the_cli_message(server, tmp_path, capsys):
    from examaudit.cli import main

    h = server.login("ana", "auditor")
    ep = exam_point_folder(tmp_path)
    (ep / "exam_point.yaml").write_text(YAML.format(code="EP-T-01", city="温州市").replace("end: \"2024-06-20 09:01\"",
                                                                                         "end: \"2024-06-20 08:01\""),
                                        encoding="utf-8")
    r = _import(server, h, zip_folder(ep))
    assert r.status_code == 422
    capsys.readouterr()
    assert main(["audit", str(ep), "--out", str(tmp_path / "out")]) == 2
    cli = capsys.readouterr().err.strip().removeprefix("examaudit: error: ")
    assert r.json()["detail"] == cli.replace(f"{ep.parent}/", ""), (r.json(), cli)
    assert not list((server.data_dir / "originals").iterdir())  # nothing stored


def _zip(entries) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _symlink_entry(name: str, target: str):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize("entries, status, words", [
    ([("../evil.txt", "x"), ("exam_point.yaml", "x")], 422, "'..'"),
    ([("/etc/evil", "x"), ("exam_point.yaml", "x")], 422, "absolute"),
    ([_symlink_entry("footage/R1-C1.mp4", "/etc/passwd"), ("exam_point.yaml", "x")], 422, "link"),
    ([("bomb.bin", b"\0" * (30 * 1024 * 1024)), ("exam_point.yaml", "x")], 413, "bomb"),
    ([("a/exam_point.yaml", "x"), ("b/exam_point.yaml", "x")], 422, "one exam_point.yaml"),
    ([("readme.txt", "x")], 422, "exam_point.yaml"),
])
def test_hostile_zips_are_refused_before_storing(server, entries, status, words):
    h = server.login("ana", "auditor")
    r = _import(server, h, _zip(entries))
    assert r.status_code == status and words in r.json()["detail"], r.json()
    assert not list((server.data_dir / "originals").iterdir())


def test_nul_in_a_member_name_is_refused():
    from examaudit.errors import InputError
    from examaudit.server.services.storage import check_relative_name

    for bad in ("a\0b", "../x", "/abs", "C:/x", "a/../../b", ""):
        with pytest.raises(InputError):
            check_relative_name(bad)
    assert check_relative_name("./footage//R1.mp4") == "footage/R1.mp4"


def test_yaml_pointing_outside_the_zip_is_refused(server, tmp_path):
    h = server.login("ana", "auditor")
    ep = exam_point_folder(tmp_path)
    text = (ep / "exam_point.yaml").read_text(encoding="utf-8") + "records:\n  roster: ../../../etc/passwd\n"
    (ep / "exam_point.yaml").write_text(text, encoding="utf-8")
    r = _import(server, h, zip_folder(ep))
    assert r.status_code == 422 and "outside" in r.json()["detail"]


def test_city_scope_is_404_everywhere(server, tmp_path):
    admin = server.login("root", "admin")
    r = _import(server, admin, exam_point_zip(tmp_path))
    server.run_jobs()
    ep_id, job_id = r.json()["exam_point"], r.json()["job"]
    found = server.client.get(f"/api/v1/exam-points/{ep_id}/findings", headers=admin).json()
    with_frames = next(f["id"] for f in found if f["evidence"])
    hz = server.login("hz", "auditor", city="杭州市")
    wz = server.login("wz", "viewer", city="温州市")
    for path in (f"/api/v1/exam-points/{ep_id}", "/api/v1/exam-points/EP-T-01", f"/api/v1/exam-points/{ep_id}/findings",
                 f"/api/v1/exam-points/{ep_id}/report.html",
                 f"/api/v1/exam-points/{ep_id}/evidence-pack.zip", f"/api/v1/jobs/{job_id}",
                 f"/api/v1/findings/{with_frames}", f"/api/v1/findings/{with_frames}/evidence/0"):
        assert server.client.get(path, headers=hz).status_code == 404, path
        assert server.client.get(path, headers=wz).status_code == 200, path
    assert server.client.get("/api/v1/exam-points", headers=hz).json() == []
    assert server.client.post(f"/api/v1/exam-points/{ep_id}/audits", headers=hz).status_code == 404
    # importing another city's exam point is refused too
    assert _import(server, hz, exam_point_zip(tmp_path / "x")).status_code == 403


def test_roles(server, tmp_path):
    viewer = server.login("vi", "viewer")
    reviewer = server.login("re", "reviewer")
    assert _import(server, viewer, exam_point_zip(tmp_path)).status_code == 403
    assert _import(server, reviewer, exam_point_zip(tmp_path)).status_code == 403


def test_progress_rises_recording_by_recording_and_sample_by_sample(server, tmp_path, monkeypatch):
    """What the job row is given while the audit runs: never backwards, moving before the end."""
    from examaudit.server.services import jobs as svc

    values = []
    real = svc._Progress.__call__

    def record(self, value, message=None, force=False):
        real(self, value, message, force=True)  # every report reaches the row in this test
        values.append(self._value)

    monkeypatch.setattr(svc._Progress, "__call__", record)
    h = server.login("ana", "auditor")
    r = _import(server, h, exam_point_zip(tmp_path))
    server.run_jobs()
    assert server.client.get(f"/api/v1/jobs/{r.json()['job']}", headers=h).json()["progress"] == 1.0
    # one 10 s recording sampled every 5 s: a value inside it, before the recording is done
    assert values == sorted(values) and any(0 < v < svc.ANALYSIS_SHARE for v in values), values
