"""Issue #18 item 9: who may do what, as ONE table, and the session/CSRF/throttle defences.

ACCESS below is the matrix: a representative route of every kind (API and pages) × the six
callers (anonymous, each role of 温州市, and an auditor of 杭州市) → the answer expected. It
drives one parametrised test. Status classes:

    ok     2xx, or a 303 that is not to /login (a page form that did its job)
    bad    400/412/422: let in, then the (deliberately empty) input refused: the role check passed
    login  401, or a redirect to /login (pages)
    deny   403: the role is too low
    hide   404: another city's exam point, finding or job does not exist for this user

An exam point of 温州市 is imported and audited once (fast: no person detector, no PDF).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from .conftest import PASSWORD, ServerUnderTest
from .exam_point_zips import exam_point_zip

HTML = {"Accept": "text/html"}
CALLERS = ("anonymous", "viewer", "reviewer", "auditor", "admin", "other-city")
EP = "EP-T-01"

# (method, path, body) → expected class per caller, in CALLERS order. {F} = a finding id, {J} = a job id.
#                                                                   anon    viewer  review  auditor admin   other
ACCESS = {
    ("GET", "/api/v1/exam-points", None):                         ("login", "ok",   "ok",   "ok",   "ok",   "ok"),
    ("GET", f"/api/v1/exam-points/{EP}", None):                   ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", f"/api/v1/exam-points/{EP}/findings", None):          ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", "/api/v1/findings/{F}", None):                        ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", "/api/v1/findings/{F}/evidence/0", None):             ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("POST", "/api/v1/findings/{F}/review", "review"):            ("login", "deny", "ok",   "ok",   "ok",   "hide"),
    ("GET", f"/api/v1/exam-points/{EP}/report.html", None):       ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", f"/api/v1/exam-points/{EP}/evidence-pack.zip", None): ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("POST", "/api/v1/uploads", "empty"):                         ("login", "deny", "deny", "bad",  "bad",  "bad"),
    ("POST", "/api/v1/exam-points/import", "empty"):              ("login", "deny", "deny", "bad",  "bad",  "bad"),
    ("POST", f"/api/v1/exam-points/{EP}/audits", "empty"):        ("login", "deny", "deny", "ok",   "ok",   "hide"),
    ("GET", "/api/v1/jobs/{J}", None):                            ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("POST", "/api/v1/jobs/{J}/cancel", "empty"):                 ("login", "deny", "deny", "ok",   "ok",   "hide"),
    ("GET", "/api/v1/cases", None):                               ("login", "ok",   "ok",   "ok",   "ok",   "ok"),
    ("POST", "/api/v1/cases/import", "empty"):                    ("login", "deny", "deny", "bad",  "bad",  "bad"),
    ("GET", "/", "page"):                                         ("login", "ok",   "ok",   "ok",   "ok",   "ok"),
    ("GET", f"/exam-points/{EP}", "page"):                        ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", "/findings/{F}", "page"):                             ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", "/upload", "page"):                                   ("login", "deny", "deny", "ok",   "ok",   "ok"),
    ("GET", "/jobs/{J}/progress", "page"):                        ("login", "ok",   "ok",   "ok",   "ok",   "hide"),
    ("GET", "/admin/jobs", "page"):                               ("login", "ok",   "ok",   "ok",   "ok",   "ok"),
    ("GET", "/admin/users", "page"):                              ("login", "deny", "deny", "deny", "ok",   "deny"),
    ("GET", "/cases", "page"):                                    ("login", "ok",   "ok",   "ok",   "ok",   "ok"),
}


def status_class(r) -> str:
    code = r.status_code
    if code in (302, 303, 307):
        return "login" if r.headers.get("location", "").startswith("/login") else "ok"
    return {401: "login", 403: "deny", 404: "hide", 400: "bad", 412: "bad", 422: "bad"}.get(
        code, "ok" if code < 300 else str(code))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from examaudit.server.app import create_app
    from examaudit.server.settings import Settings

    tmp = tmp_path_factory.mktemp("access")
    settings = Settings.from_env(tmp / "data", workers=0, audit_params={"people": False}, report_pdf=False)
    app = create_app(settings)
    client = TestClient(app)
    client.__enter__()
    srv = ServerUnderTest(app, client, settings.data_dir)
    h = srv.login("importer", "auditor")
    srv.job = srv.import_zip(h, exam_point_zip(tmp, city="温州市"))["job"]
    srv.run_jobs()
    findings = client.get(f"/api/v1/exam-points/{EP}/findings", headers=h).json()
    srv.finding = next(f["id"] for f in findings if f.get("evidence"))
    srv.headers = {"anonymous": {}}
    for caller in CALLERS[1:]:
        role, city = ("auditor", "杭州市") if caller == "other-city" else (caller, None)
        srv.headers[caller] = srv.login(f"acc-{caller}", role, city)
    yield srv
    client.__exit__(None, None, None)


def _cookie_client(site: ServerUnderTest, caller: str) -> TestClient:
    """Pages are tried as a browser is: logged in through the form (a fresh client per caller)."""
    c = TestClient(site.app)
    if caller != "anonymous":
        r = c.post("/login", data={"username": f"acc-{caller}", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
    return c


@pytest.mark.parametrize("route", list(ACCESS), ids=lambda k: f"{k[0]} {k[1]}")
def test_access_matrix(site, route):
    method, path, body = route
    path = path.replace("{F}", site.finding).replace("{J}", str(site.job))
    got = {}
    for caller in CALLERS:
        if body == "page":
            r = _cookie_client(site, caller).get(path, headers=HTML, follow_redirects=False)
        else:
            kw = {"json": {"decision": "unsure", "comment": "access test"}} if body == "review" else {}
            r = site.client.request(method, path, headers=site.headers[caller], follow_redirects=False, **kw)
        got[caller] = status_class(r)
    assert tuple(got[c] for c in CALLERS) == ACCESS[route], got


# ---------------------------------------------------------------- session, CSRF, throttling
def _form_login(client: TestClient, name: str, password: str = PASSWORD):
    return client.post("/login", data={"username": name, "password": password}, follow_redirects=False)


def test_session_id_changes_on_login(server):
    """Session fixation: a cookie planted before login (or an earlier session) is never the one after it."""
    from examaudit.server.security import SESSION_COOKIE

    server.add_user("fix", "auditor")
    c = TestClient(server.app)
    c.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    r = _form_login(c, "fix")
    assert r.status_code == 303
    first = r.cookies.get(SESSION_COOKIE)
    assert first and first != "planted-by-an-attacker"
    second = _form_login(c, "fix").cookies.get(SESSION_COOKIE)
    assert second and second != first
    # the planted value never authenticates anything
    planted = TestClient(server.app)
    planted.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    assert planted.get("/api/v1/auth/me").status_code == 401


def test_signing_out_ends_the_session_not_just_the_cookie(server):
    """A copy of the cookie taken before signing out (shared computer, proxy log) is dead afterwards;
    the same user's other browser and API token go on."""
    from examaudit.server.security import CSRF_FIELD, SESSION_COOKIE

    server.add_user("leaver", "auditor")
    office, home = TestClient(server.app), TestClient(server.app)
    assert _form_login(office, "leaver").status_code == 303
    assert _form_login(home, "leaver").status_code == 303
    token = server.client.post("/api/v1/auth/token", data={"username": "leaver", "password": PASSWORD}).json()
    copied = TestClient(server.app)
    copied.cookies.set(SESSION_COOKIE, office.cookies[SESSION_COOKIE])
    assert copied.get("/api/v1/auth/me").status_code == 200
    csrf = _csrf_of(office)
    r = office.post("/logout", data={CSRF_FIELD: csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert copied.get("/api/v1/auth/me").status_code == 401
    assert home.get("/api/v1/auth/me").status_code == 200
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert server.client.get("/api/v1/auth/me", headers=bearer).status_code == 200


def _csrf_of(client: TestClient) -> str:
    """The CSRF token a page hands to this browser (the hidden form field of the dashboard)."""
    import re

    page = client.get("/", headers=HTML).text
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, page[:500]
    return m.group(1)


def test_every_cookie_authenticated_form_post_needs_the_csrf_token(server):
    """Walk the route table: every POST/PATCH/PUT/DELETE with a valid session cookie but no token is 403."""
    from examaudit.server.security import CSRF_FIELD, is_public

    from .test_api_auth import iter_routes

    csrf = server.cookie_login("root", "admin")
    tried = []
    for path, route in iter_routes(server.app.routes):
        if is_public(path):
            continue
        concrete = path
        for name in getattr(route, "param_convertors", {}):
            concrete = concrete.replace("{" + name + "}", "1").replace("{" + name + ":path}", "1")
        for method in sorted(set(getattr(route, "methods", None) or ()) - {"GET", "HEAD", "OPTIONS"}):
            r = server.client.request(method, concrete, data={"x": "1"}, follow_redirects=False)
            assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
            tried.append((method, path))
    assert len(tried) >= 30, tried
    assert {("POST", "/findings/{finding_id}/review"), ("POST", "/admin/users"), ("POST", "/upload/exam-points"),
            ("POST", "/cases/import"), ("POST", "/admin/jobs/{job_id}/cancel")} <= set(tried)
    # the same session with its token gets through (here: signing out)
    r = server.client.post("/logout", data={CSRF_FIELD: csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_login_form_is_rate_limited(server):
    """After 5 wrong passwords even the right one is refused for a while, and no session is handed out."""
    from examaudit.server.security import SESSION_COOKIE

    server.add_user("guess", "admin")
    c = TestClient(server.app)
    for _ in range(5):
        r = _form_login(c, "guess", "wrong-password")
        assert r.status_code == 200 and "用户名或密码错误" in r.text
    r = _form_login(c, "guess")
    assert r.status_code == 200 and "登录失败次数过多" in r.text
    assert SESSION_COOKIE not in r.cookies
    # the bearer-token login shares the counter
    r = server.client.post("/api/v1/auth/token", data={"username": "guess", "password": PASSWORD})
    assert r.status_code == 429
