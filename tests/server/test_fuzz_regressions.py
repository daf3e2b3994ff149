"""Plain regression tests for what the API fuzzer (test_fuzz_api.py) found."""

from __future__ import annotations

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_refused_input_422_matches_the_declared_schema(server):
    # Found: POST /api/v1/cases/import with a non-.csv/.xlsx file answered 422 {"detail": "<one line>"},
    # while /openapi.json declared 422 as FastAPI's list of {loc, msg, type} only.
    import jsonschema

    h = server.login("ana", "admin")
    r = server.client.post("/api/v1/cases/import", headers=h, files={"file": ("x.txt", b"", "text/plain")})
    assert r.status_code == 422 and isinstance(r.json()["detail"], str)
    schema = server.client.get("/openapi.json").json()
    detail = schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    sub = jsonschema.validators.Draft202012Validator(
        {"anyOf": detail["anyOf"], "components": schema["components"]})
    sub.validate(r.json()["detail"])
    sub.validate([{"loc": ["body", "file"], "msg": "Field required", "type": "missing"}])


def test_file_downloads_declare_their_content_type(server):
    # Found: GET /api/v1/cases/export.xlsx sent an xlsx where /openapi.json documented application/json.
    h = server.login("ana", "admin")
    r = server.client.get("/api/v1/cases/export.xlsx", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    paths = server.client.get("/openapi.json").json()["paths"]
    declared = {p: list(paths[p]["get"]["responses"]["200"]["content"]) for p in (
        "/api/v1/cases/export.xlsx", "/api/v1/form1.xlsx", "/api/v1/bulletin.docx",
        "/api/v1/callbacks/{plan_id}/calls.xlsx", "/api/v1/exam-points/{exam_point_id}/report.pdf",
        "/api/v1/exam-points/{exam_point_id}/evidence-pack.zip")}
    assert declared["/api/v1/cases/export.xlsx"] == [XLSX]
    assert declared["/api/v1/exam-points/{exam_point_id}/report.pdf"] == ["application/pdf"]
    assert declared["/api/v1/exam-points/{exam_point_id}/evidence-pack.zip"] == ["application/zip"]
    assert not any("application/json" in v for v in declared.values()), declared


def test_huge_or_odd_numeric_ids_are_4xx_not_500(server):
    # Found: /api/v1/jobs/{30 digits} and /api/v1/callbacks/{30 digits} overflowed SQLite's INTEGER (500);
    # /api/v1/cases/²/outcome passed str.isdigit() and int('²') raised (500).
    h = server.login("ana", "admin")
    big = "9" * 30
    for method, path in (("GET", f"/api/v1/jobs/{big}"), ("POST", f"/api/v1/jobs/{big}/cancel"),
                         ("GET", f"/api/v1/callbacks/{big}"), ("GET", f"/api/v1/callbacks/{big}/calls.xlsx"),
                         ("POST", f"/api/v1/callbacks/{big}/calls/1/phone"),
                         ("GET", f"/api/v1/exam-points/{big}"), ("GET", f"/api/v1/cases/{big}"),
                         ("GET", "/api/v1/cases/²"), ("GET", "/api/v1/exam-points/²"),
                         ("POST", "/api/v1/cases/²/outcome")):
        r = server.client.request(method, path, headers=h, json={})
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text[:200])


def test_ids_past_int4_are_4xx_not_500(server):
    # Found running on PostgreSQL: its Integer is int4, so /api/v1/jobs/2**40 raised "integer out of range"
    # (500) where SQLite's 64-bit INTEGER found no row. A key that may be a code (exam point, case) is 404.
    h = server.login("ana", "admin")
    big = str(2**40)
    for method, path, status in (("GET", f"/api/v1/jobs/{big}", 422), ("GET", f"/api/v1/callbacks/{big}", 422),
                                 ("POST", f"/api/v1/callbacks/1/calls/{big}/phone", 422),
                                 ("GET", f"/api/v1/exam-points/{big}", 404), ("GET", f"/api/v1/cases/{big}", 404),
                                 ("GET", f"/api/v1/exam-points/{2**31}", 404), ("GET", f"/api/v1/jobs/{2**31 - 1}", 404)):
        r = server.client.request(method, path, headers=h, json={})
        assert r.status_code == status, (method, path, r.status_code, r.text[:200])
