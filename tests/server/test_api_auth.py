"""Accounts, tokens, cookies, CSRF, throttling and the access rule on every route."""

from __future__ import annotations

import pytest

from examaudit.server.security import LoginThrottle, is_public

from .conftest import PASSWORD


def test_token_login_and_me(server):
    h = server.login("ana", "auditor", city="温州市")
    r = server.client.get("/api/v1/auth/me", headers=h)
    assert r.json() == {"name": "ana", "role": "auditor", "city": "温州市"}


def test_wrong_password_is_401_and_then_throttled(server):
    server.add_user("bo", "viewer")
    for _ in range(5):
        r = server.client.post("/api/v1/auth/token", data={"username": "bo", "password": "nope-nope"})
        assert r.status_code == 401
    r = server.client.post("/api/v1/auth/token", data={"username": "bo", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_throttle_window_passes():
    now = [0.0]
    t = LoginThrottle(2, 60, clock=lambda: now[0])
    t.failed("u"), t.failed("u")
    assert t.retry_after("u") > 0
    now[0] = 61
    assert t.retry_after("u") == 0


def test_disabled_user_token_stops_working(server):
    from examaudit.server.services.users import disable_user

    h = server.login("cy", "reviewer")
    assert server.client.get("/api/v1/auth/me", headers=h).status_code == 200
    with server.db.session() as s:
        disable_user(s, "cy")
    assert server.client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_cookie_session_and_csrf(server):
    csrf = server.cookie_login("di", "admin")
    r = server.client.get("/api/v1/auth/me")
    assert r.status_code == 200 and r.json()["name"] == "di"
    # a state-changing request with the cookie but without the CSRF token is refused
    r = server.client.post("/api/v1/auth/me")
    assert r.status_code in (403, 405)


def test_password_hash_is_argon2(server):
    from examaudit.server.models import User

    server.add_user("eve", "viewer")
    with server.db.session() as s:
        u = s.query(User).filter_by(name="eve").one()
        assert u.password_hash.startswith("$argon2id$") and PASSWORD not in u.password_hash


def iter_routes(routes, prefix=""):
    """(full path, route) for every endpoint, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from iter_routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "methods") or hasattr(route, "param_convertors") and not hasattr(route, "app"):
            yield prefix + route.path, route


def test_every_non_public_route_needs_login(server):
    """Walk the app's route table: without credentials nothing but the public routes answers 2xx/5xx."""
    checked = 0
    for path, route in iter_routes(server.app.routes):
        concrete = path
        for name in getattr(route, "param_convertors", {}):
            concrete = concrete.replace("{" + name + "}", "1").replace("{" + name + ":path}", "1")
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method == "HEAD":
                continue
            r = server.client.request(method, concrete, follow_redirects=False)
            if is_public(path):
                assert r.status_code < 500, (method, path, r.status_code)
                continue
            checked += 1
            ok = r.status_code in (401, 403) or (r.status_code in (302, 303, 307) and "/login" in r.headers["location"])
            assert ok, (method, path, r.status_code, r.text[:200])
    assert checked >= 1
