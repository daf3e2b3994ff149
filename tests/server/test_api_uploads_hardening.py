"""Uploads under stress (issue #18 item 5): many at once, cut mid-chunk, hostile file names.

The concurrency and mid-chunk tests run a real `examaudit serve` (uvicorn, real sockets); the
name tests use the in-process app and a browser session to read the pages as a user sees them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import LiveServer, add_user_cli

tusclient = pytest.importorskip("tusclient.client")

TUS = {"Tus-Resumable": "1.0.0"}


def _yaml(code: str, cameras: list[tuple[str, str]], name: str = "压力测试考点") -> str:
    """An exam point with one room and one footage file per (camera, file name)."""
    cams = "\n".join(f"      - {{id: {cam}, footage: [\"footage/{fname}\"]}}" for cam, fname in cameras)
    return (f"exam_point: {code}\nname: \"{name}\"\ncity: 温州市\n"
            "sessions: [{id: S1, start: \"2024-06-20 09:00\", end: \"2024-06-20 11:00\"}]\n"
            f"rooms:\n  - id: R1\n    cameras:\n{cams}\n")


def _meta_header(meta: dict) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _write_source(path: Path, size: int, seed: int) -> None:
    """``size`` bytes that differ per seed: random 1 MB blocks every 16 MB, zeros between (sparse)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
        for off in range(0, size, 16 << 20):
            fh.seek(off)
            fh.write(seed.to_bytes(4, "big") + os.urandom(min(1 << 20, size - off) - 4))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One `examaudit serve` for the tests of this file (starting one costs seconds); each test has its exam point."""
    data = tmp_path_factory.mktemp("uploads-live") / "data"
    data.mkdir()
    add_user_cli(data, "ana", "auditor")
    srv = LiveServer(data).start()
    try:
        yield srv, srv.token("ana"), data
    finally:
        srv.stop()


def _exam_point(live, code: str, cameras: list[tuple[str, str]]) -> None:
    srv, h, _ = live
    r = httpx.post(srv.url + "/api/v1/exam-points", headers={**h, "Content-Type": "application/yaml"},
                   content=_yaml(code, cameras).encode())
    assert r.status_code == 201, r.text


# ------------------------------------------------------------------ many uploads at once
@pytest.mark.parametrize("n, size_mb, chunk_mb", [
    (20, 3, 1),
    pytest.param(20, 200, 8, marks=pytest.mark.slow),
])
def test_concurrent_uploads_all_arrive_whole(live, tmp_path, n, size_mb, chunk_mb):
    code = f"EP-CC-{size_mb:03d}"
    cameras = [(f"C{i:02d}", f"R1-C{i:02d}.mp4") for i in range(n)]
    _exam_point(live, code, cameras)
    srv, h, data = live
    sources = []
    for i, (cam, fname) in enumerate(cameras):
        src = tmp_path / fname
        if i == 1:  # the same bytes as camera 0, at the same time: stored once, listed twice
            os.link(sources[0][2], src)
        else:
            _write_source(src, size_mb << 20, seed=i)
        sources.append((cam, fname, src))
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def send(cam: str, fname: str, src: Path) -> None:
        try:
            meta = {"exam_point": code, "role": "footage", "room": "R1", "camera": cam, "filename": fname}
            up = tusclient.TusClient(srv.url + "/api/v1/uploads/", headers=h).uploader(
                file_path=str(src), chunk_size=chunk_mb << 20, metadata=meta)
            start.wait()
            up.upload()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=s) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    expected = {cam: (_sha(src), src.stat().st_size) for cam, _, src in sources}
    for sha, size in set(expected.values()):
        original = data / "originals" / sha
        assert original.is_file() and original.stat().st_size == size
        assert oct(original.stat().st_mode)[-3:] == "444"
        assert _sha(original) == sha  # the name the server gave it is the hash of what it holds
    assert len(set(expected.values())) == n - 1  # cameras 0 and 1 share one original
    assert not list((data / "uploads" / "tus").glob("*.info"))  # nothing left in flight
    detail = httpx.get(srv.url + f"/api/v1/exam-points/{code}", headers=h).json()
    got = {u["camera"]: (u["sha256"], u["size"]) for u in detail["uploads"]}
    assert got == expected
    assert detail["missing_footage"] == []
    [inputs] = (data / "exam_points" / code / "inputs").iterdir()  # the one folder the YAML made
    for cam, fname, _ in sources:  # where the YAML expects it: the same bytes (a hard link)
        assert (inputs / "footage" / fname).stat().st_ino == (data / "originals" / expected[cam][0]).stat().st_ino


# ------------------------------------------------------------------ a client that stops mid-chunk
def _create(srv, h, size: int, meta: dict) -> str:
    r = httpx.post(srv.url + "/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(size),
                                                          "Upload-Metadata": _meta_header(meta)})
    assert r.status_code == 201, r.text
    return r.headers["Location"]


def _patch_request(url: str, h: dict, offset: int, declared: int) -> bytes:
    path = urlsplit(url).path
    head = [f"PATCH {path} HTTP/1.1", f"Host: {urlsplit(url).netloc}", "Tus-Resumable: 1.0.0",
            f"Upload-Offset: {offset}", "Content-Type: application/offset+octet-stream",
            f"Content-Length: {declared}", *(f"{k}: {v}" for k, v in h.items()), "", ""]
    return "\r\n".join(head).encode()


def _wait_for(what: str, cond, seconds: float = 60.0) -> None:
    """Wait for the server to get somewhere (not a timing check: the limit only stops a hang)."""
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"the server never got to: {what}")
        time.sleep(0.02)


def _offset(url: str, h: dict) -> int:
    r = httpx.head(url, headers={**h, **TUS})
    assert r.status_code == 200, (r.status_code, r.headers)
    return int(r.headers["Upload-Offset"])


def _resume(url: str, h: dict, payload: bytes) -> None:
    """What a client does: ask the offset, send the rest from there (again if another request held it)."""
    for _ in range(50):
        offset = _offset(url, h)
        r = httpx.patch(url, content=payload[offset:], timeout=60,
                        headers={**h, **TUS, "Upload-Offset": str(offset),
                                 "Content-Type": "application/offset+octet-stream"})
        if r.status_code == 204:
            assert int(r.headers["Upload-Offset"]) == len(payload)
            return
        assert r.status_code == 409, (r.status_code, r.text)  # the cut request still held the upload
        time.sleep(0.05)
    raise AssertionError("the upload never resumed")


CUT_SCRIPT = r"""
import socket, sys, time
host, port, request, body, part_file, sent = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
import os
s = socket.create_connection((host, port))
s.sendall(open(request, "rb").read() + open(body, "rb").read())
while not os.path.exists(part_file) or os.path.getsize(part_file) < sent:
    time.sleep(0.01)
print("written", flush=True)
time.sleep(600)  # the test kills this process here, mid-request
"""


@pytest.mark.parametrize("how", ["closed", "killed", "past_length"])
def test_a_patch_cut_mid_chunk_resumes_without_corruption(live, tmp_path, how):
    code = f"EP-CUT-{how.upper()}"
    _exam_point(live, code, [("C1", "R1-C1.mp4")])
    srv, h, data = live
    payload = os.urandom(3 << 20)
    sha = hashlib.sha256(payload).hexdigest()
    meta = {"exam_point": code, "role": "footage", "room": "R1", "camera": "C1", "filename": "R1-C1.mp4"}
    url = _create(srv, h, len(payload), meta)
    part = data / "uploads" / "tus" / url.rsplit("/", 1)[1]
    host, port = urlsplit(srv.url).hostname, urlsplit(srv.url).port
    # The first request declares 2 MB; 1 MB + 123 bytes arrives, the server writes it, then the client is gone.
    sent, declared = (1 << 20) + 123, 2 << 20
    if how == "closed":
        with socket.create_connection((host, port)) as s:
            s.sendall(_patch_request(url, h, 0, declared) + payload[:sent])
            _wait_for("writing the bytes it got", lambda: part.stat().st_size >= sent)
        _wait_for("saving the offset of the bytes it wrote", lambda: _offset(url, h) == sent)
    elif how == "killed":
        (tmp_path / "req").write_bytes(_patch_request(url, h, 0, declared))
        (tmp_path / "body").write_bytes(payload[:sent])
        proc = subprocess.Popen([sys.executable, "-c", CUT_SCRIPT, host, str(port), str(tmp_path / "req"),
                                 str(tmp_path / "body"), str(part), str(sent)], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "written"
        finally:
            proc.kill()
            proc.wait(10)
        _wait_for("saving the offset of the bytes it wrote", lambda: _offset(url, h) == sent)
    else:
        # A first request moves the upload to `sent`; the second runs past Upload-Length: the server
        # writes its first bytes, then refuses the request (400) without moving the offset.
        r = httpx.patch(url, content=payload[:sent], headers={**h, **TUS, "Upload-Offset": "0",
                                                               "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 204 and int(r.headers["Upload-Offset"]) == sent
        junk = os.urandom(len(payload) - sent + 4096)  # wrong bytes, more than the upload has left
        with socket.create_connection((host, port)) as s:
            s.sendall(_patch_request(url, h, sent, len(junk)) + junk[:1 << 20])
            _wait_for("writing the first part of the refused request", lambda: part.stat().st_size >= sent + (1 << 20))
            s.sendall(junk[1 << 20:])
            reply = s.recv(4096)
        assert b" 400 " in reply.split(b"\r\n")[0], reply
        assert _offset(url, h) == sent  # what the client was told, whatever the disk holds
    _resume(url, h, payload)
    original = data / "originals" / sha
    assert original.is_file(), "the stored file is not the source: bytes were lost, doubled or hashed wrongly"
    assert original.read_bytes() == payload
    detail = httpx.get(srv.url + f"/api/v1/exam-points/{code}", headers=h).json()
    assert [(u["sha256"], u["size"]) for u in detail["uploads"]] == [(sha, len(payload))]


def test_the_hasher_never_covers_bytes_the_client_was_not_told_about(tmp_path):
    """Bytes past the saved offset (a refused or interrupted PATCH) are cut and the hash follows the file."""
    import asyncio

    from examaudit.server.services.uploads import HashingStorage

    async def run() -> str:
        st = HashingStorage(str(tmp_path))
        await st.create("u" * 32)
        await st.write_info("u" * 32, {"offset": 0, "metadata": {}})
        async with st.lock("u" * 32):
            await st.append("u" * 32, b"good-")
            await st.append("u" * 32, b"UNTOLD")  # written, but the offset saved stays at 5
        await st.write_info("u" * 32, {"offset": 5, "metadata": {}})
        async with st.lock("u" * 32):
            assert os.path.getsize(tmp_path / ("u" * 32)) == 5
            await st.append("u" * 32, b"rest")
        return st.sha256("u" * 32)

    assert asyncio.run(run()) == hashlib.sha256(b"good-rest").hexdigest()


# ------------------------------------------------------------------ hostile file names
HTML_NAME = "<img src=x onerror=alert(1)>.mp4"
CHINESE_NAME = "第一考场 前门摄像头.mp4"


@pytest.fixture
def named_exam_point(server, tmp_path):
    h = server.login("ana", "auditor")
    text = _yaml("EP-NM-01", [("C1", HTML_NAME), ("C2", CHINESE_NAME)],
                 name="<script>alert(1)</script>考点")
    r = server.client.post("/api/v1/exam-points", headers=h, content=text.encode())
    assert r.status_code == 201, r.text
    return h


def _create_in_process(server, h, meta: dict, size: int = 10):
    return server.client.post("/api/v1/uploads/", headers={**h, **TUS, "Upload-Length": str(size),
                                                           "Upload-Metadata": _meta_header(meta)})


REFUSED = [  # (role, camera, file name, what the refusal says)
    ("footage", "C1", "<script>alert(1)</script>.mp4", "plain file name"),
    ("footage", "C1", "../../etc/passwd.mp4", "leaves its folder"),
    ("footage", "C1", "R1-C1\0.mp4", "NUL"),
    ("footage", "C1", "x" * 300 + ".mp4", "at most 255 bytes"),
    ("footage", "C2", "考" * 100 + ".mp4", "at most 255 bytes"),
    ("footage", "C1", "roster\u202evsc.mp4", "direction mark"),
    ("roster", None, "名" * 90 + ".csv", "at most 255 bytes"),
]


def test_hostile_file_names_are_refused_with_the_reason(server, named_exam_point):
    for role, camera, filename, says in REFUSED:
        meta = {"exam_point": "EP-NM-01", "role": role, "filename": filename}
        if camera:
            meta.update(room="R1", camera=camera)
        r = _create_in_process(server, named_exam_point, meta)
        assert r.status_code == 422 and says in r.json()["detail"], (filename, r.status_code, r.text)
    assert not list((server.data_dir / "uploads" / "tus").glob("*.info"))
    assert not (server.data_dir / "originals").exists() or not list((server.data_dir / "originals").iterdir())
    # An exam_point.yaml naming such a file is refused too: else the exam point is created and every
    # page that looks for its footage fails (ENAMETOOLONG).
    r = server.client.post("/api/v1/exam-points", headers=named_exam_point,
                           content=_yaml("EP-NM-02", [("C1", "x" * 300 + ".mp4")]).encode())
    assert r.status_code == 422 and "at most 255 bytes" in r.json()["detail"], r.text
    assert "EP-NM-02" not in server.client.get("/api/v1/exam-points", headers=named_exam_point).text


def test_html_and_chinese_file_names_are_stored_safely_and_shown_escaped(server, named_exam_point):
    h = named_exam_point
    stored = {}
    for camera, fname in (("C1", HTML_NAME), ("C2", CHINESE_NAME)):
        body = f"footage named {fname}".encode()
        meta = {"exam_point": "EP-NM-01", "role": "footage", "room": "R1", "camera": camera, "filename": fname}
        r = _create_in_process(server, h, meta, size=len(body))
        assert r.status_code == 201, r.text
        p = server.client.patch(urlsplit(r.headers["Location"]).path, content=body,
                                headers={**h, **TUS, "Upload-Offset": "0",
                                         "Content-Type": "application/offset+octet-stream"})
        assert p.status_code == 204, p.text
        stored[fname] = hashlib.sha256(body).hexdigest()
    data = server.data_dir.resolve()
    for fname, sha in stored.items():
        assert (data / "originals" / sha).is_file()  # under its sha256, whatever its name
        placed = [p for p in data.rglob("*") if p.name == fname]
        assert placed and all(p.resolve().is_relative_to(data) for p in placed)
    detail = server.client.get("/api/v1/exam-points/EP-NM-01", headers=h)
    assert detail.headers["content-type"].startswith("application/json")
    assert {u["filename"]: u["sha256"] for u in detail.json()["uploads"]} == stored
    assert server.client.post("/api/v1/exam-points/EP-NM-01/audits", headers=h).status_code == 202

    server.tokens.clear()
    server.cookie_login("bo", "auditor")
    for page in ("/", "/exam-points/EP-NM-01", "/upload?exam_point=EP-NM-01", "/upload", "/admin/jobs"):
        r = server.client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        html = r.text
        assert "<script>alert(1)</script>" not in html and "<img src=x onerror" not in html, page
        if page != "/admin/jobs":  # the job list names exam points by code only
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
    upload_page = server.client.get("/upload?exam_point=EP-NM-01").text
    assert "&lt;img src=x onerror=alert(1)&gt;.mp4" in upload_page and CHINESE_NAME in upload_page
