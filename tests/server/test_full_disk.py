"""Issue #18 item 7, "full disk": the data directory on a small tmpfs that runs out of space.

An upload, a zip import, an audit or a database write that does not fit fails with one line
saying the disk is full (HTTP 507, or a failed job), leaves nothing half-written behind, and the
server goes on serving; once space is freed the same work succeeds.

The tmpfs is mounted by the test (``mount -t tmpfs -o size=...``): that needs root (or
CAP_SYS_ADMIN); without it the tests skip and say so.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import ON_POSTGRES
from .exam_point_zips import YAML, exam_point_zip, zip_folder

TUS = {"Tus-Resumable": "1.0.0"}
MiB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path):
    """``mount(size)`` -> a fresh tmpfs of that many bytes; always unmounted at the end.

    Request it before ``server_factory``/``live_server`` so the servers on it stop first.
    """
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                               capture_output=True, text=True)
        except FileNotFoundError:
            pytest.skip("cannot mount a tmpfs to fill: no mount command")
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): {r.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=True)  # a file still open: detach it


def free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(disk: Path, leave: int = 0) -> Path:
    """Take the disk's free space but ``leave`` bytes (another upload arriving, a log growing)."""
    filler = disk / "filler"
    with open(filler, "ab", buffering=0) as fh:  # unbuffered: nothing left over to fail on close
        while (n := free(disk) - leave) > 0:
            try:
                fh.write(b"\0" * min(n, 4 * MiB))
            except OSError:
                break
    return filler


def tus_meta(**meta: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())


FOOTAGE = {"exam_point": "EP-T-01", "role": "footage", "room": "R1", "camera": "C1", "filename": "R1-C1.mp4"}


def _folder(tmp_path: Path, records: int = 0) -> Path:
    """The test exam point's folder; its footage is random bytes (these tests never audit it), and
    ``records`` random bytes of scores beside it."""
    ep = tmp_path / "src" / "EP-T-01"
    (ep / "footage").mkdir(parents=True, exist_ok=True)
    (ep / "exam_point.yaml").write_text(YAML.format(code="EP-T-01", city="温州市"), encoding="utf-8")
    (ep / "footage" / "R1-C1.mp4").write_bytes(os.urandom(64 * 1024))
    if records:
        (ep / "records").mkdir(exist_ok=True)
        (ep / "records" / "scores.csv").write_bytes(os.urandom(records))
    return ep


def _yaml_exam_point(client, h, tmp_path):
    r = client.post("/api/v1/exam-points", headers=h, content=(_folder(tmp_path) / "exam_point.yaml").read_bytes())
    assert r.status_code == 201, r.text


def _rows(server):
    from sqlalchemy import func, select

    from examaudit.server.models import ExamPoint, Upload

    with server.db.session() as s:
        return (s.scalar(select(func.count()).select_from(ExamPoint)),
                s.scalar(select(func.count()).select_from(Upload)))


# ---------------------------------------------------------------- (a) tus uploads
def test_tus_patch_that_hits_a_full_disk_is_507_and_resumes_once_space_is_freed(small_disk, server_factory,
                                                                                 tmp_path):
    disk = small_disk(8 * MiB)
    server = server_factory(data_dir=disk, disk_reserve_bytes=0)
    h = server.login("ana", "auditor")
    _yaml_exam_point(server.client, h, tmp_path)
    payload = os.urandom(3 * MiB)
    half = len(payload) // 2
    r = server.client.post("/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(len(payload)),
                                                        "Upload-Metadata": tus_meta(**FOOTAGE)})
    assert r.status_code == 201, r.text
    url = r.headers["location"]
    patch = {**h, **TUS, "Content-Type": "application/offset+octet-stream"}
    assert server.client.patch(url, headers={**patch, "Upload-Offset": "0"}, content=payload[:half]).status_code == 204

    filler = fill(disk, leave=256 * 1024)  # another writer took the space meanwhile
    r = server.client.patch(url, headers={**patch, "Upload-Offset": str(half)}, content=payload[half:])
    assert r.status_code == 507, r.text
    detail = r.json()["detail"]
    assert "disk full" in detail and "upload R1-C1.mp4 needs" in detail and str(len(payload) - half) in detail
    assert f"resume from offset {half}" in detail
    # resumable: the part holds exactly the confirmed bytes, nothing past them
    head = server.client.head(url, headers={**h, **TUS})
    assert head.status_code == 200 and int(head.headers["Upload-Offset"]) == half
    part = disk / "uploads" / "tus" / url.rsplit("/", 1)[-1]
    assert part.read_bytes() == payload[:half]
    assert not list((disk / "originals").iterdir()) and _rows(server) == (1, 0)
    assert server.client.get("/api/v1/exam-points/EP-T-01", headers=h).status_code == 200  # still serving

    filler.unlink()
    r = server.client.patch(url, headers={**patch, "Upload-Offset": str(half)}, content=payload[half:])
    assert r.status_code == 204, r.text
    sha = hashlib.sha256(payload).hexdigest()
    assert (disk / "originals" / sha).read_bytes() == payload
    uploads = server.client.get("/api/v1/exam-points/EP-T-01", headers=h).json()["uploads"]
    assert [(u["sha256"], u["size"]) for u in uploads] == [(sha, len(payload))]


def test_tus_patch_whose_bytes_fit_but_not_its_new_offset_keeps_part_and_offset_in_step(server, tmp_path,
                                                                                        monkeypatch):
    """The last chunk fitted, the info file counting it did not: a resume must not append after it."""
    import errno

    from tuspyserver.storage.local import LocalFileStorage

    h = server.login("ana", "auditor")
    _yaml_exam_point(server.client, h, tmp_path)
    payload = os.urandom(3 * MiB)
    r = server.client.post("/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(len(payload)),
                                                        "Upload-Metadata": tus_meta(**FOOTAGE)})
    url = r.headers["location"]
    patch = {**h, **TUS, "Content-Type": "application/offset+octet-stream"}
    assert server.client.patch(url, headers={**patch, "Upload-Offset": "0"}, content=payload[:MiB]).status_code == 204
    write_info = LocalFileStorage.write_info

    async def no_room_for_the_info(self, uid, data):
        raise OSError(errno.ENOSPC, "No space left on device", self._info_path(uid) + ".tmp")

    monkeypatch.setattr(LocalFileStorage, "write_info", no_room_for_the_info)
    r = server.client.patch(url, headers={**patch, "Upload-Offset": str(MiB)}, content=payload[MiB:2 * MiB])
    assert r.status_code == 507 and "disk full" in r.json()["detail"], r.text
    part = server.data_dir / "uploads" / "tus" / url.rsplit("/", 1)[-1]
    assert part.read_bytes() == payload[:MiB]
    assert int(server.client.head(url, headers={**h, **TUS}).headers["Upload-Offset"]) == MiB

    monkeypatch.setattr(LocalFileStorage, "write_info", write_info)
    r = server.client.patch(url, headers={**patch, "Upload-Offset": str(MiB)}, content=payload[MiB:])
    assert r.status_code == 204, r.text
    assert (server.data_dir / "originals" / hashlib.sha256(payload).hexdigest()).read_bytes() == payload


def test_reupload_whose_row_cannot_be_written_puts_the_earlier_file_back(server, tmp_path, monkeypatch):
    """The last byte arrived and the file was linked, but the Upload row hit a full disk: the folder must
    hold the earlier upload again (its row still vouches for it), or the next audit would call it changed."""
    import sqlite3

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    h = server.login("ana", "auditor")
    _yaml_exam_point(server.client, h, tmp_path)

    def upload(payload: bytes):
        r = server.client.post("/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(len(payload)),
                                                            "Upload-Metadata": tus_meta(**FOOTAGE)})
        return server.client.patch(r.headers["location"], content=payload,
                                   headers={**h, **TUS, "Content-Type": "application/offset+octet-stream",
                                            "Upload-Offset": "0"})

    first, second = os.urandom(200_000), os.urandom(300_000)
    assert upload(first).status_code == 204
    linked = next((server.data_dir / "exam_points" / "EP-T-01" / "inputs").rglob("R1-C1.mp4"))
    assert linked.read_bytes() == first
    commit = Session.commit

    def full(self):
        if any(type(o).__name__ == "Upload" for o in self.new):
            orig = sqlite3.OperationalError("database or disk is full")
            orig.sqlite_errorcode = sqlite3.SQLITE_FULL
            raise OperationalError("INSERT INTO uploads", {}, orig)
        return commit(self)

    monkeypatch.setattr(Session, "commit", full)
    r = upload(second)
    assert r.status_code == 507, r.text
    monkeypatch.setattr(Session, "commit", commit)
    assert linked.read_bytes() == first
    assert sorted(p.name for p in linked.parent.iterdir()) == ["R1-C1.mp4"]  # no link or backup left over
    assert _rows(server) == (1, 1)


def test_tus_creation_larger_than_the_free_space_is_refused_before_any_byte(small_disk, server_factory, tmp_path):
    disk = small_disk(8 * MiB)
    server = server_factory(data_dir=disk, disk_reserve_bytes=2 * MiB)
    h = server.login("ana", "auditor")
    _yaml_exam_point(server.client, h, tmp_path)
    too_big = free(disk) - MiB  # fits the disk, not the disk less the reserve
    r = server.client.post("/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(too_big),
                                                        "Upload-Metadata": tus_meta(**FOOTAGE)})
    assert r.status_code == 507, r.text
    detail = r.json()["detail"]
    assert detail.startswith("磁盘空间不足 / disk full: ") and f"upload R1-C1.mp4 needs {too_big} bytes" in detail
    assert f"and {2 * MiB} are kept free" in detail
    assert not list((disk / "uploads").rglob("*"))
    r = server.client.post("/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(MiB),
                                                        "Upload-Metadata": tus_meta(**FOOTAGE)})
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- (b) zip imports
def _import(client, h, data: bytes):
    return client.post("/api/v1/exam-points/import", headers=h, files={"file": ("ep.zip", data, "application/zip")})


def test_zip_import_that_does_not_fit_is_refused_before_unpacking(small_disk, server_factory, tmp_path):
    disk = small_disk(8 * MiB)
    server = server_factory(data_dir=disk, disk_reserve_bytes=0)
    h = server.login("ana", "auditor")
    data = zip_folder(_folder(tmp_path, records=3 * MiB))
    fill(disk, leave=len(data) + MiB)  # the zip arrives; its 3 MB of contents do not fit beside it
    r = _import(server.client, h, data)
    assert r.status_code == 507, r.text
    assert "disk full" in r.json()["detail"] and "the zip's 3 files needs" in r.json()["detail"]
    assert _rows(server) == (0, 0)
    assert not list((disk / "exam_points").iterdir()) and not list((disk / "originals").iterdir())
    assert not list((disk / "uploads").iterdir())  # neither the zip nor a temp folder stays


def test_zip_import_that_runs_out_of_space_midway_leaves_no_input_folder(small_disk, server_factory, tmp_path,
                                                                        monkeypatch):
    from examaudit.server.services import exam_points

    disk = small_disk(8 * MiB)
    server = server_factory(data_dir=disk, disk_reserve_bytes=0)
    h = server.login("ana", "auditor")
    data = zip_folder(_folder(tmp_path, records=3 * MiB))
    # The space check passed, then another writer took the space: the unpacking itself hits ENOSPC.
    filler = fill(disk, leave=len(data) + MiB)
    monkeypatch.setattr(exam_points, "ensure_room", lambda *a, **kw: None)
    r = _import(server.client, h, data)
    assert r.status_code == 507, r.text
    assert "disk full" in r.json()["detail"] and "zip member 'EP-T-01/records/scores.csv'" in r.json()["detail"]
    assert _rows(server) == (0, 0)
    assert not (disk / "exam_points" / "EP-T-01").exists()
    assert not [p for p in (disk / "uploads").iterdir()]
    assert server.client.get("/api/v1/exam-points", headers=h).json() == []

    filler.unlink()
    r = _import(server.client, h, data)
    assert r.status_code == 202, r.text
    assert _rows(server) == (1, 3) and len(list((disk / "exam_points" / "EP-T-01" / "inputs").iterdir())) == 1


# ---------------------------------------------------------------- (d) the database itself
@pytest.mark.skipif(ON_POSTGRES, reason="the database is on DATA's disk only with SQLite; with PostgreSQL "
                    "test_a_job_the_queue_cannot_take_is_507_and_withdrawn covers the queue's own write")
def test_database_write_on_a_full_disk_is_507_and_reads_go_on(small_disk, server_factory, tmp_path):
    disk = small_disk(8 * MiB)
    server = server_factory(data_dir=disk, disk_reserve_bytes=MiB)
    h = server.login("ana", "auditor")
    _yaml_exam_point(server.client, h, tmp_path)
    from fastapi.testclient import TestClient

    browser = TestClient(server.app)
    csrf = server.cookie_login("root", "admin")
    browser.cookies.update(server.client.cookies)
    server.client.cookies.clear()
    filler = fill(disk)
    # Starting an audit writes only database rows (the job): SQLite answers SQLITE_FULL.
    r = server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h)
    assert r.status_code == 507, r.text
    assert r.json()["detail"].startswith("磁盘空间不足 / disk full: 0 bytes free in ")
    declared = server.app.openapi()["paths"]["/api/v1/exam-points/{exam_point_id}/audits"]["post"]["responses"]
    assert declared["507"]["content"]["application/json"]["schema"]["required"] == ["detail"]  # said in the schema
    # a browser's form gets the error page with the same line, not JSON
    r = browser.post("/admin/users", data={"name": "new", "role": "viewer", "password": "a long password 1",
                                           "csrf_token": csrf}, headers={"Accept": "text/html"})
    assert r.status_code == 507 and r.headers["content-type"].startswith("text/html"), r.text[:300]
    assert "disk full" in r.text and "<html" in r.text.lower()
    detail = server.client.get("/api/v1/exam-points/EP-T-01", headers=h)
    assert detail.status_code == 200 and detail.json()["jobs"] == []
    health = server.client.get("/healthz")
    assert health.status_code == 503 and health.json()["database"] == "ok" and health.json()["disk_free_bytes"] == 0
    # a new exam_point.yaml (64 kB of comment): 507 too, and no new input folder beside the first one
    r = server.client.post("/api/v1/exam-points", headers=h, content=(tmp_path / "src" / "EP-T-01" / "exam_point.yaml")
                           .read_bytes() + b"# " + b"x" * 64 * 1024 + b"\n")
    assert r.status_code == 507, r.text
    assert [p.name for p in (disk / "exam_points" / "EP-T-01" / "inputs").iterdir()] == ["1"]

    filler.unlink()
    r = server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h)
    assert r.status_code == 202, r.text
    assert server.client.get("/healthz").status_code == 200


def test_a_job_the_queue_cannot_take_is_507_and_withdrawn(server, tmp_path, monkeypatch):
    # Found on PostgreSQL: the job row was committed elsewhere, then queue.db (SQLite, in DATA) was full:
    # a raw sqlite3 error (500) and a job left "queued" with no message to run it.
    import sqlite3

    h = server.login("ana", "auditor")
    _yaml_exam_point(server.client, h, tmp_path)

    def full(*_a, **_k):
        err = sqlite3.OperationalError("database or disk is full")
        err.sqlite_errorcode = sqlite3.SQLITE_FULL
        raise err

    with monkeypatch.context() as m:
        m.setattr(server.app.state.queue, "task", full)
        r = server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h)
    assert r.status_code == 507 and r.json()["detail"].startswith("磁盘空间不足 / disk full: "), r.text
    assert server.client.get("/api/v1/exam-points/EP-T-01", headers=h).json()["jobs"] == []
    assert server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h).status_code == 202


# ---------------------------------------------------------------- (c) audits
def test_outputs_and_custody_on_a_full_disk_keep_their_last_whole_state(small_disk):
    """The writes an audit makes: a file is replaced whole or not at all, a custody line is whole."""
    from examaudit.custody import CustodyLog, check_chain
    from examaudit.errors import is_disk_full
    from examaudit.outputs import write_atomic

    disk = small_disk(MiB)
    findings = disk / "findings.json"
    write_atomic(findings, "{}" * 3000)
    log = CustodyLog(disk / "custody.jsonl")
    log.append("audit started")
    chain = log.path.read_bytes()
    filler = fill(disk)
    with pytest.raises(OSError) as err:
        write_atomic(findings, "[]" * 9000)
    assert is_disk_full(err.value)
    assert findings.read_text() == "{}" * 3000
    with pytest.raises(OSError):
        log.append("audit findings merged", note="n" * 9000)
    assert log.path.read_bytes() == chain
    assert sorted(p.name for p in disk.iterdir()) == ["custody.jsonl", "filler", "findings.json"]

    filler.unlink()
    log.append("audit findings merged")
    assert check_chain(log.path) == []


def test_cli_audit_on_a_full_disk_says_so_and_exits_2(small_disk, tmp_path, capsys):
    from examaudit.cli import EXIT_INPUT, main

    disk = small_disk(MiB)
    fill(disk)
    code = main(["audit", str(_folder(tmp_path)), "--out", str(disk / "out"), "--no-people", "--no-report",
                 "--workers", "1"])
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    assert err.startswith("examaudit: error: 磁盘空间不足 / disk full: 0 bytes free in ") and "Traceback" not in err


@pytest.mark.slow
def test_audit_that_runs_out_of_space_fails_clearly_and_keeps_the_last_good_outputs(small_disk, server_factory,
                                                                                    tmp_path, monkeypatch):
    import examaudit.audit
    from examaudit.custody import check_chain
    from examaudit.server.services import jobs

    disk = small_disk(16 * MiB)
    server = server_factory(data_dir=disk, disk_reserve_bytes=MiB)
    h = server.login("ana", "auditor")
    r = _import(server.client, h, exam_point_zip(tmp_path / "src"))
    assert r.status_code == 202, r.text
    server.run_jobs()
    out = disk / "exam_points" / "EP-T-01" / "audit"
    good = {n: (out / n).read_bytes() for n in ("findings.json", "audit.json", "report.html", "evidence_pack.zip")}
    ep_before = server.client.get("/api/v1/exam-points/EP-T-01", headers=h).json()
    assert ep_before["status"] == "done"

    def fill_before(module, name):
        """The disk fills up (another upload, a log) just before ``module.name`` runs."""
        original = getattr(module, name)

        def filling(*args, **kw):
            fill(disk)
            return original(*args, **kw)

        monkeypatch.setattr(module, name, filling)
        return lambda: monkeypatch.setattr(module, name, original)

    # as the job starts (its first custody line), then as the findings are merged (findings.json)
    for module, name in ((jobs, "_audit"), (examaudit.audit, "write_exam_point")):
        restore = fill_before(module, name)
        job = server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h).json()["job"]
        server.run_jobs()
        view = server.client.get(f"/api/v1/jobs/{job}", headers=h).json()
        assert view["state"] == "failed", (name, view)
        assert view["message"].startswith("磁盘空间不足 / disk full: ") and "internal error" not in view["message"]
        # the last good audit is whole: no half-written file replaced one, no temp file stayed
        assert {n: (out / n).read_bytes() for n in good} == good, name
        assert not [p for p in out.rglob("*") if ".partial" in p.name]
        assert check_chain(out / "custody.jsonl") == []
        ep_after = server.client.get("/api/v1/exam-points/EP-T-01", headers=h).json()
        assert (ep_after["risk"], ep_after["findings"]) == (ep_before["risk"], ep_before["findings"])
        health = server.client.get("/healthz")
        assert health.status_code == 503 and health.json()["disk_free_bytes"] < MiB
        restore()
        (disk / "filler").unlink()

    # space freed: the same audit runs to the end
    job = server.client.post("/api/v1/exam-points/EP-T-01/audits", headers=h).json()["job"]
    server.run_jobs()
    view = server.client.get(f"/api/v1/jobs/{job}", headers=h).json()
    assert view["state"] == "done" and "reused 1" in view["message"], view
    assert server.client.get("/healthz").status_code == 200
    with zipfile.ZipFile(out / "evidence_pack.zip") as zf:
        assert zf.testzip() is None


# ---------------------------------------------------------------- a real server stays up
@pytest.mark.slow
def test_live_server_stays_up_through_a_full_disk(small_disk, live_server, tmp_path, monkeypatch):
    import httpx

    from .conftest import add_user_cli

    disk = small_disk(8 * MiB)
    add_user_cli(disk, "ana", "auditor")
    monkeypatch.setenv("EXAMAUDIT_DISK_RESERVE_BYTES", str(MiB))
    srv = live_server(disk)
    h = srv.token("ana")
    _yaml_exam_point(httpx.Client(base_url=srv.url), h, tmp_path)
    payload = os.urandom(2 * MiB)
    r = httpx.post(srv.url + "/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(len(payload)),
                                                           "Upload-Metadata": tus_meta(**FOOTAGE)})
    assert r.status_code == 201, r.text
    url = r.headers["location"]
    patch = {**h, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    filler = fill(disk, leave=64 * 1024)
    r = httpx.patch(url, headers=patch, content=payload, timeout=30)
    assert r.status_code == 507 and "disk full" in r.json()["detail"], r.text
    assert srv.proc.poll() is None
    assert httpx.get(srv.url + "/healthz").status_code == 503
    assert httpx.get(srv.url + "/api/v1/exam-points/EP-T-01", headers=h).status_code == 200

    filler.unlink()
    assert httpx.get(srv.url + "/healthz").status_code == 200
    r = httpx.patch(url, headers=patch, content=payload, timeout=30)
    assert r.status_code == 204, r.text
    assert (disk / "originals" / hashlib.sha256(payload).hexdigest()).is_file()
    srv.stop()
