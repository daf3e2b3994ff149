"""The HTML pages through FastAPI's TestClient: every page for every role, actions hidden and refused
per role, reviews round-trip, masking, the seat-map editor's save, and the vendored assets.

One small exam point (a generated 10 s clip with a footage gap, audited for real) is shared by
the tests of this module, so the audit runs once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, ServerUnderTest
from .exam_point_zips import exam_point_zip

HTML = {"Accept": "text/html"}
ROLES = ("viewer", "reviewer", "auditor", "admin")
STATIC = Path(__file__).resolve().parents[2] / "examaudit" / "server" / "static"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from examaudit.server.app import create_app
    from examaudit.server.settings import Settings

    tmp = tmp_path_factory.mktemp("pages")
    settings = Settings.from_env(tmp / "data", workers=0)
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    srv = ServerUnderTest(app, client, settings.data_dir)
    h = srv.login("importer", "auditor")
    srv.import_zip(h, exam_point_zip(tmp, city="温州市"))
    srv.run_jobs()
    for role in ROLES:
        srv.add_user(f"u-{role}", role)
    srv.add_user("hz-auditor", "auditor", city="杭州市")
    findings = client.get("/api/v1/exam-points/EP-T-01/findings", headers=h).json()
    assert findings, "the fixture audit found nothing"
    srv.findings = findings
    yield srv
    client.__exit__(None, None, None)


def browser(site: ServerUnderTest, name: str) -> tuple[TestClient, str]:
    """A fresh client logged in through the login form, as a browser is; returns it and its CSRF token."""
    c = TestClient(site.app)
    r = c.post("/login", data={"username": name, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    page = c.get("/", headers=HTML)
    m = re.search(r'data-csrf="([^"]+)"', page.text)
    assert m, "the page carries no CSRF token"
    return c, m.group(1)


def video_finding(site) -> dict:
    return next(f for f in site.findings if f["source"] == "video" and f["start_s"] is not None)


# ---------------------------------------------------------------- login
def test_login_page_and_errors_in_chinese(site):
    c = TestClient(site.app)
    r = c.get("/login")
    assert r.status_code == 200
    assert 'name="username"' in r.text and 'name="password"' in r.text and "登录" in r.text
    bad = c.post("/login", data={"username": "u-viewer", "password": "wrong-password"})
    assert "用户名或密码错误" in bad.text and "examaudit_session" not in bad.headers.get("set-cookie", "")
    assert c.get("/", headers=HTML, follow_redirects=False).headers["location"].startswith("/login")


def test_login_next_is_same_site_only(site):
    c = TestClient(site.app)
    r = c.post("/login", data={"username": "u-viewer", "password": PASSWORD, "next": "//evil.example/x"},
               follow_redirects=False)
    assert r.headers["location"] == "/"


def test_language_switch(site):
    c, _ = browser(site, "u-viewer")
    assert "考点风险总览" in c.get("/", headers=HTML).text
    en = c.get("/?lang=en", headers=HTML)
    assert "Exam-point risk overview" in en.text and '<html lang="en">' in en.text
    assert "Exam-point risk overview" in c.get("/", headers=HTML).text  # remembered in a cookie


# ---------------------------------------------------------------- every page, every role
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(site, role):
    c, _ = browser(site, f"u-{role}")
    f = video_finding(site)
    pages = ["/", "/exam-points/EP-T-01", f"/findings/{f['id']}", "/exam-points/EP-T-01/seats/C1", "/admin/jobs"]
    for path in pages:
        r = c.get(path, headers=HTML)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert f'data-testid="user-name">u-{role}<' in r.text  # who is logged in ...
        assert 'data-testid="user-role"' in r.text and "English" in r.text  # ... their role, the language switch
    upload = c.get("/upload?exam_point=EP-T-01", headers=HTML)
    admin = c.get("/admin/users", headers=HTML)
    assert upload.status_code == (200 if role in ("auditor", "admin") else 403)
    assert admin.status_code == (200 if role == "admin" else 403)
    if role == "viewer":  # refused as a page in Chinese with the user bar, not a line of JSON
        assert "您的角色无权执行此操作" in upload.text and 'data-testid="user-name">u-viewer<' in upload.text
        assert c.get("/exam-points/NOPE", headers=HTML).status_code == 404
        assert c.get("/api/v1/exam-points/NOPE", headers=HTML).headers["content-type"].startswith("application/json")


def test_dashboard_lists_risk_reasons_counts_status_and_job(site):
    c, _ = browser(site, "u-viewer")
    r = c.get("/", headers=HTML)
    row = re.search(r'<tr data-exam-point="EP-T-01">(.*?)</tr>', r.text, re.S).group(1)
    assert "温州市" in row and "风险分" in row and "未审核" in row and "已完成" in row
    assert 'class="sev ' in row  # counts by severity carry a word and a shape, not colour alone
    assert "EP-T-01" not in c.get("/?city=杭州市", headers=HTML).text.split("<tbody>")[-1]
    assert "EP-T-01" in c.get("/?city=温州市&status=unreviewed", headers=HTML).text


def test_city_scope_hides_other_cities_pages(site):
    c, _ = browser(site, "hz-auditor")
    assert "EP-T-01" not in c.get("/", headers=HTML).text.split("<tbody>")[-1]
    f = video_finding(site)
    for path in ("/exam-points/EP-T-01", f"/findings/{f['id']}", "/exam-points/EP-T-01/seats/C1",
                 "/upload?exam_point=EP-T-01", f"/findings/{f['id']}/clip"):
        assert c.get(path, headers=HTML).status_code == 404, path


def test_exam_point_page_draws_timeline_marks_that_open_findings(site):
    c, _ = browser(site, "u-viewer")
    r = c.get("/exam-points/EP-T-01", headers=HTML)
    assert 'data-testid="timeline"' in r.text
    f = video_finding(site)
    assert f'<a href="/findings/{f["id"]}"' in r.text  # the mark on the timeline links to the finding
    assert "缺失" in r.text and "录像覆盖时间轴" in r.text


# ---------------------------------------------------------------- review
def test_viewer_sees_no_review_buttons_and_is_refused(site):
    c, csrf = browser(site, "u-viewer")
    f = video_finding(site)
    page = c.get(f"/findings/{f['id']}", headers=HTML).text
    assert 'value="dismissed"' not in page and "您的角色只能查阅" in page
    for url, kw in ((f"/api/v1/findings/{f['id']}/review", {"json": {"decision": "confirmed", "comment": ""}}),
                    (f"/findings/{f['id']}/review", {"data": {"decision": "confirmed", "csrf_token": csrf}})):
        r = c.post(url, headers={"X-CSRF-Token": csrf}, **kw)
        assert r.status_code == 403, (url, r.text)


def test_reviewer_dismisses_with_comment_and_history_shows(site):
    c, csrf = browser(site, "u-reviewer")
    f = video_finding(site)
    page = c.get(f"/findings/{f['id']}", headers=HTML).text
    for word in ("确认", "驳回", "存疑"):
        assert word in page
    # no comment: refused, in Chinese, nothing recorded
    r = c.post(f"/findings/{f['id']}/review", data={"decision": "dismissed", "comment": "", "csrf_token": csrf},
               headers={**HTML, "HX-Request": "true"})
    assert "驳回时必须填写审核意见" in r.text
    # without the CSRF token: refused
    assert c.post(f"/findings/{f['id']}/review", data={"decision": "unsure"}).status_code == 403
    r = c.post(f"/findings/{f['id']}/review", data={"decision": "dismissed", "comment": "停电，已核实",
                                                    "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/findings/{f['id']}", headers=HTML).text
    assert "已驳回" in page and "停电，已核实" in page and "u-reviewer" in page
    api = c.get(f"/api/v1/findings/{f['id']}").json()
    assert api["review"]["decision"] == "dismissed" and len(api["history"]) >= 1
    # the dashboard counts it
    row = re.search(r'<tr data-exam-point="EP-T-01">(.*?)</tr>', c.get("/", headers=HTML).text, re.S).group(1)
    assert "未审核" not in row
    # and the exam point page shows the decision in the finding list
    assert "已驳回" in c.get("/exam-points/EP-T-01", headers=HTML).text


def test_finding_page_shows_frames_clip_and_keyboard_help(site):
    c, _ = browser(site, "u-viewer")
    f = video_finding(site)
    page = c.get(f"/findings/{f['id']}", headers=HTML).text
    assert f["reason_zh"][:8] in page and f["reason_en"][:8] in page
    assert f"/api/v1/findings/{f['id']}/evidence/0" in page
    assert f'<source src="/findings/{f["id"]}/clip" type="video/mp4">' in page
    clip = c.get(f"/findings/{f['id']}/clip")
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4" and len(clip.content) > 1000
    part = c.get(f"/findings/{f['id']}/clip", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100  # browsers seek with ranges
    # the player's copy holds the very packets of the pack's clip, only counted from zero
    from examaudit.report.clips import packet_digest

    original = c.get(f"/findings/{f['id']}/clip?original=1")
    assert original.status_code == 200 and "attachment" in original.headers["content-disposition"]
    tmp = site.data_dir.parent / "clips"
    tmp.mkdir(exist_ok=True)
    (tmp / "web.mp4").write_bytes(clip.content)
    (tmp / "orig.mp4").write_bytes(original.content)
    assert packet_digest(tmp / "web.mp4") == packet_digest(tmp / "orig.mp4")
    import av

    with av.open(str(tmp / "web.mp4")) as web:
        assert web.streams.video[0].start_time in (0, None)


def test_personal_data_masked_below_auditor(site):
    """The roster in the seat editor shows ID numbers masked for a reviewer, in full for an auditor."""
    from examaudit.server.services import seat_maps

    roster = [{"candidate_id": "EP-T-01-S1-001", "name": "冯伟军", "id_number": "310104198803024883", "room": "R1",
               "seat": "01"}]
    original = seat_maps.roster
    seat_maps.roster = lambda cfg, room=None: roster
    try:
        c, _ = browser(site, "u-reviewer")
        masked = c.get("/exam-points/EP-T-01/seats/C1", headers=HTML).text
        c2, _ = browser(site, "u-auditor")
        full = c2.get("/exam-points/EP-T-01/seats/C1", headers=HTML).text
    finally:
        seat_maps.roster = original
    def payload(page: str) -> dict:
        import json

        return json.loads(re.search(r'<script type="application/json" id="seatmap-data">(.*?)</script>', page, re.S).group(1))

    shown = payload(masked)["roster"][0]
    assert shown["id_number"] == "310104********4883" and shown["name"] == "冯**"
    assert "310104198803024883" not in masked
    assert payload(full)["roster"][0]["id_number"] == "310104198803024883"


# ---------------------------------------------------------------- seat map
def test_seat_map_save_validates_and_stores_a_new_config(site):
    c, csrf = browser(site, "u-auditor")
    url = "/exam-points/EP-T-01/seats/C1"
    bad = c.post(url, json={"seats": [{"seat": "01", "polygon": [[1, 1], [2, 2]]}]}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "seats[0].polygon" in bad.json()["detail"]
    assert "/data/" not in bad.json()["detail"]  # names exam_point.yaml, not the server's folders
    seats = [{"seat": "01", "polygon": [[10, 10], [60, 10], [60, 50], [10, 50]], "candidate_id": "EP-T-01-S1-001"},
             {"seat": "02", "polygon": [[70, 10], [120, 10], [120, 50], [70, 50]]}]
    ok = c.post(url, json={"seats": seats, "invigilator_zone": [[0, 0], [30, 0], [30, 30]]},
                headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    page = c.get(url, headers=HTML).text
    assert "EP-T-01-S1-001" in page and "[70.0, 10.0]" in page
    # a viewer may look but not save
    v, vcsrf = browser(site, "u-viewer")
    assert 'id="save-seats"' not in v.get(url, headers=HTML).text
    assert v.post(url, json={"seats": seats}, headers={"X-CSRF-Token": vcsrf}).status_code == 403


def test_seat_frame_is_a_jpeg_of_the_camera(site):
    c, _ = browser(site, "u-viewer")
    r = c.get("/exam-points/EP-T-01/seats/C1/frame.jpg")
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"


# ---------------------------------------------------------------- upload and jobs
def test_upload_page_has_drop_zones_and_job_progress(site):
    c, _ = browser(site, "u-auditor")
    r = c.get("/upload?exam_point=EP-T-01", headers=HTML)
    assert 'data-testid="drop-C1"' in r.text and 'data-testid="drop-records"' in r.text
    assert "/static/vendor/tus.min.js" in r.text
    with site.db.session() as s:
        from sqlalchemy import select

        from examaudit.server.models import Job

        job_id = s.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))
    p = c.get(f"/jobs/{job_id}/progress", headers=HTML)
    assert p.status_code == 200 and 'data-state="done"' in p.text and "hx-trigger" not in p.text  # polling stops


def test_new_exam_point_yaml_errors_are_shown(site):
    c, csrf = browser(site, "u-auditor")
    r = c.post("/upload/exam-points", data={"yaml": "exam_point: X\nrooms: []\n", "csrf_token": csrf})
    assert r.status_code == 422 and "考点配置有误" in r.text and "rooms" in r.text


def test_admin_adds_and_disables_a_user(site):
    c, csrf = browser(site, "u-admin")
    r = c.post("/admin/users", data={"name": "new-viewer", "role": "viewer", "city": "温州市",
                                     "password": "long enough pw", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert "new-viewer" in c.get("/admin/users", headers=HTML).text
    c.post("/admin/users/new-viewer/disable", data={"csrf_token": csrf})
    refused = TestClient(site.app).post("/login", data={"username": "new-viewer", "password": "long enough pw"},
                                        follow_redirects=False)
    assert refused.status_code != 303 and "用户名或密码错误" in refused.text


# ---------------------------------------------------------------- assets
def test_vendored_assets_match_their_recorded_hashes_and_licences():
    expected = {
        "vendor/htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
        "vendor/tus.min.js": "2370de43c57969760dfdab84e2b50a675c5459b91e4c8f809e6fda0f8376c892",
    }
    for rel, sha in expected.items():
        assert hashlib.sha256((STATIC / rel).read_bytes()).hexdigest() == sha, rel
    assert "Zero-Clause BSD" in (STATIC / "vendor" / "htmx.LICENSE").read_text()
    assert "MIT" in (STATIC / "vendor" / "tus-js-client.LICENSE").read_text()


def test_pages_reference_no_other_hosts(site):
    """No CDN: every script, stylesheet and picture the templates name is served from this server."""
    templates = Path(__file__).resolve().parents[2] / "examaudit" / "server" / "templates" / "pages"
    for p in list(templates.glob("*.j2")) + list(STATIC.glob("*.js")) + list(STATIC.glob("*.css")):
        text = p.read_text(encoding="utf-8")
        assert not re.search(r'(src|href)="(https?:)?//', text), p
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, p
    c = TestClient(site.app)
    assert c.get("/static/vendor/htmx.min.js").status_code == 200
    assert c.get("/static/app.css").status_code == 200
