"""tus uploads with the tuspy client against a real `examaudit serve`: resume, sha256, placement."""

from __future__ import annotations

import hashlib
import httpx
import pytest

from .conftest import add_user_cli
from .exam_point_zips import YAML, exam_point_folder

tusclient = pytest.importorskip("tusclient.client")


def _yaml_exam_point(srv, h, tmp_path):
    ep = exam_point_folder(tmp_path)
    r = httpx.post(srv.url + "/api/v1/exam-points", headers={**h, "Content-Type": "application/yaml"},
                   content=(ep / "exam_point.yaml").read_bytes())
    assert r.status_code == 201, r.text
    return ep


def test_tus_upload_resumes_and_lands_by_sha256(live_server, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    add_user_cli(data, "ana", "auditor")
    srv = live_server(data)
    h = srv.token("ana")
    ep = _yaml_exam_point(srv, h, tmp_path)
    clip = ep / "footage" / "R1-C1.mp4"
    payload = clip.read_bytes()  # about 100 kB: several chunks of 16 kB
    client = tusclient.TusClient(srv.url + "/api/v1/uploads/", headers=h)
    meta = {"exam_point": "EP-T-01", "role": "footage", "room": "R1", "camera": "C1", "filename": "R1-C1.mp4",
            "filetype": "video/mp4"}
    uploader = client.uploader(file_path=str(clip), chunk_size=16 * 1024, metadata=meta)
    uploader.upload_chunk()
    uploader.upload_chunk()  # "the connection drops" here: a new client resumes from the server's offset
    url = uploader.url
    head = httpx.head(url, headers={**h, "Tus-Resumable": "1.0.0"})
    assert head.status_code == 200, (head.status_code, head.headers)
    assert int(head.headers["Upload-Offset"]) == 2 * 16 * 1024
    resumed = tusclient.TusClient(srv.url + "/api/v1/uploads/", headers=h).uploader(
        file_path=str(clip), chunk_size=16 * 1024, metadata=meta, url=url)
    assert resumed.offset == 2 * 16 * 1024
    resumed.upload()
    sha = hashlib.sha256(payload).hexdigest()
    original = data / "originals" / sha
    assert original.read_bytes() == payload and oct(original.stat().st_mode)[-3:] == "444"
    assert not list((data / "uploads" / "tus").glob("*.info"))  # nothing left in flight
    detail = httpx.get(srv.url + "/api/v1/exam-points/EP-T-01", headers=h).json()
    assert [(u["role"], u["camera"], u["sha256"], u["by"]) for u in detail["uploads"]] == [("footage", "C1", sha, "ana")]
    assert detail["missing_footage"] == []
    # the audit of the uploaded footage
    r = httpx.post(srv.url + "/api/v1/exam-points/EP-T-01/audits", headers=h)
    assert r.status_code == 202 and r.json()["missing_footage"] == []


@pytest.mark.parametrize("meta, status", [
    ({"exam_point": "EP-T-01", "role": "footage", "camera": "C1", "filename": "../R1-C1.mp4"}, 422),
    ({"exam_point": "EP-T-01", "role": "footage", "camera": "C1", "filename": "/etc/passwd"}, 422),
    ({"exam_point": "EP-T-01", "role": "footage", "camera": "C1", "filename": "a\0b.mp4"}, 422),
    ({"exam_point": "EP-T-01", "role": "footage", "camera": "C1", "filename": "other.mp4"}, 422),
    ({"exam_point": "EP-T-01", "role": "footage", "camera": "C9", "filename": "R1-C1.mp4"}, 422),
    ({"exam_point": "EP-T-01", "role": "roster", "filename": "roster.exe"}, 422),
    ({"exam_point": "EP-T-01", "role": "secrets", "filename": "x.csv"}, 422),
    ({"exam_point": "EP-NOPE", "role": "roster", "filename": "roster.csv"}, 404),
])
def test_bad_upload_metadata_is_refused_at_creation(server, tmp_path, meta, status):
    import base64

    h = server.login("ana", "auditor")
    ep = exam_point_folder(tmp_path)
    assert server.client.post("/api/v1/exam-points", headers=h, content=(ep / "exam_point.yaml").read_bytes()).status_code == 201
    enc = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    r = server.client.post("/api/v1/uploads/", headers={**h, "Tus-Resumable": "1.0.0", "Upload-Length": "10",
                                                        "Upload-Metadata": enc})
    assert r.status_code == status, r.text
    assert not list((server.data_dir / "uploads" / "tus").glob("*.info"))


def test_upload_needs_auditor_and_city(server, tmp_path):
    import base64

    server.login("ana", "auditor")
    ep = exam_point_folder(tmp_path)
    server.client.post("/api/v1/exam-points", headers=server.login("ana", "auditor"),
                       content=(ep / "exam_point.yaml").read_bytes())
    meta = {"exam_point": "EP-T-01", "role": "roster", "filename": "roster.csv"}
    enc = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    hdr = {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": enc}
    assert server.client.post("/api/v1/uploads/", headers=hdr).status_code == 401
    assert server.client.post("/api/v1/uploads/", headers={**hdr, **server.login("vi", "viewer")}).status_code == 403
    hz = server.login("hz", "auditor", city="杭州市")
    assert server.client.post("/api/v1/uploads/", headers={**hdr, **hz}).status_code == 404
    r = server.client.post("/api/v1/uploads/", headers={**hdr, **server.login("ana", "auditor")})
    assert r.status_code == 201
    # PATCH without credentials writes nothing
    loc = r.headers["Location"].split("/api/v1/uploads/")[1]
    p = server.client.patch(f"/api/v1/uploads/{loc}", content=b"0123456789",
                            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                                     "Content-Type": "application/offset+octet-stream"})
    assert p.status_code == 401
    assert (server.data_dir / "uploads" / "tus" / loc).stat().st_size == 0
    # termination
    d = server.client.delete(f"/api/v1/uploads/{loc}", headers={"Tus-Resumable": "1.0.0", **server.login("ana", "auditor")})
    assert d.status_code == 204 and not (server.data_dir / "uploads" / "tus" / loc).exists()


def test_yaml_records_path_outside_is_refused(server, tmp_path):
    h = server.login("ana", "auditor")
    text = YAML.format(code="EP-T-02", city="温州市") + "records:\n  roster: ../records/roster.csv\n"
    r = server.client.post("/api/v1/exam-points", headers=h, content=text.encode())
    assert r.status_code == 422 and "outside" in r.json()["detail"]
