"""Passwords, sessions, tokens, CSRF, login throttling and the one access rule (role + city).

Every route except :data:`PUBLIC_PATHS` depends on :func:`current_user` (directly or through
:func:`require_role`); a test walks the route table to prove it. Exam points are looked up
through :func:`visible_exam_point` / :func:`check_city`, so another city's exam point answers
404 exactly like one that does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pwdlib import PasswordHash

from .models import ROLES, ExamPoint, User, UserSession, row_id, utcnow

SESSION_COOKIE = "examaudit_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: Paths that answer without a login (prefix match for the ones ending in "/").
PUBLIC_PATHS = ("/login", "/api/v1/auth/token", "/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                "/redoc", "/static/")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_hasher = PasswordHash.recommended()  # argon2id


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return _hasher.verify(password, hashed)
    except Exception:  # noqa: BLE001 - a malformed stored hash is a failed login, not a 500
        return False


def is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)


@dataclass(frozen=True)
class Principal:
    """The logged-in user as routes see it (plain data, detached from any DB session)."""

    id: int
    name: str
    role: str
    city: str | None
    via: str  # "cookie" | "token"
    csrf: str | None = None

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def sees_personal_data(self) -> bool:
        """ID-card and phone numbers in full: auditors and admins only."""
        return self.at_least("auditor")

    def can_see_city(self, city: str | None) -> bool:
        return self.city is None or self.city == city


class NotAuthenticated(Exception):
    """No valid cookie or token: 401 for the API, a redirect to /login for pages (app.py)."""


# ---------------------------------------------------------------- sessions and tokens
def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def make_session_cookie(secret: str, user: User, sid: str) -> tuple[str, str]:
    """The signed cookie value and its CSRF token (bound into the cookie, so it cannot be swapped).

    ``sid`` names the server-side session row (:class:`UserSession`) that signing out ends.
    """
    csrf = secrets.token_urlsafe(24)
    return _serializer(secret, "session").dumps({"u": user.id, "v": user.session_version, "c": csrf, "s": sid}), csrf


def make_token(secret: str, user: User) -> str:
    return _serializer(secret, "api-token").dumps({"u": user.id, "v": user.session_version})


def new_session(db, settings, user: User) -> tuple[str, str]:
    """A new server-side session for ``user``: the signed cookie value and its CSRF token.

    Always a new random id: a cookie planted or copied before the login never becomes this session.
    Sessions older than the cookie's lifetime are deleted here, so the table does not grow forever.
    """
    from datetime import timedelta

    from sqlalchemy import delete

    sid = secrets.token_urlsafe(32)
    with db.session() as s:
        s.execute(delete(UserSession).where(
            UserSession.created_at < utcnow() - timedelta(seconds=settings.session_max_age_s)))
        s.add(UserSession(user_id=user.id, sid_sha256=_sid_hash(sid), created_at=utcnow()))
    return make_session_cookie(settings.secret_key, user, sid)


def start_session(response, request: Request, user: User) -> str:
    """A new session's cookie on ``response``; returns the CSRF token for the next page."""
    settings = request.app.state.settings
    value, csrf = new_session(request.app.state.db, settings, user)
    response.set_cookie(SESSION_COOKIE, value, max_age=settings.session_max_age_s, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    return csrf


def end_session(response, request: Request | None = None) -> None:
    """Remove the cookie and, given the request, end its server-side session: a copy of the cookie is dead too."""
    response.delete_cookie(SESSION_COOKIE, path="/")
    if request is None or SESSION_COOKIE not in request.cookies:
        return
    data = _load(request, request.cookies[SESSION_COOKIE], "session", request.app.state.settings.session_max_age_s)
    if data and isinstance(data.get("s"), str):
        from sqlalchemy import update

        with request.app.state.db.session() as s:
            s.execute(update(UserSession).where(UserSession.sid_sha256 == _sid_hash(data["s"]),
                                                UserSession.ended_at.is_(None)).values(ended_at=utcnow()))


def _load(request: Request, raw: str, salt: str, max_age: int) -> dict | None:
    try:
        data = _serializer(request.app.state.settings.secret_key, salt).loads(raw, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) else None


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request: the route's Form() fields still work
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "CSRF token missing or wrong (reload the page)")


async def current_user(request: Request) -> Principal:
    """The logged-in user, from ``Authorization: Bearer`` or the session cookie.

    Cookie-authenticated requests that change something must carry the CSRF token (header
    ``X-CSRF-Token`` or form field ``csrf_token``); bearer requests cannot be forged by a page.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    settings = request.app.state.settings
    auth = request.headers.get("authorization", "")
    data, via = None, None
    if auth.lower().startswith("bearer "):
        data, via = _load(request, auth[7:].strip(), "api-token", settings.token_max_age_s), "token"
    elif SESSION_COOKIE in request.cookies:
        data, via = _load(request, request.cookies[SESSION_COOKIE], "session", settings.session_max_age_s), "cookie"
    if not data:
        raise NotAuthenticated()
    with request.app.state.db.session() as s:
        user = s.get(User, data.get("u"))
        if user is None or user.disabled or user.session_version != data.get("v"):
            raise NotAuthenticated()
        if via == "cookie" and not _session_open(s, user.id, data.get("s")):
            raise NotAuthenticated()
        who = Principal(user.id, user.name, user.role, user.city, via, data.get("c"))
    if via == "cookie" and request.method not in SAFE_METHODS:
        await _check_csrf(request, who.csrf or "")
    request.state.principal = who
    return who


def _session_open(s, user_id: int, sid) -> bool:
    """Whether the cookie's server-side session exists, is this user's and has not been signed out."""
    from sqlalchemy import select

    if not isinstance(sid, str):
        return False  # a cookie from before server-side sessions: sign in again
    row = s.scalar(select(UserSession).where(UserSession.sid_sha256 == _sid_hash(sid)))
    return row is not None and row.user_id == user_id and row.ended_at is None


def require_role(role: str):
    """Dependency: the logged-in user with at least ``role`` (403 otherwise)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(user: Principal = Depends(current_user)) -> Principal:
        if not user.at_least(role):
            raise HTTPException(403, f"this needs the {role} role or higher")
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


def check_city(user: Principal, exam_point: ExamPoint | None) -> ExamPoint:
    """The exam point if ``user`` may see it; 404 when it is missing *or* another city's."""
    if exam_point is None or not user.can_see_city(exam_point.city):
        raise HTTPException(404, "exam point not found")
    return exam_point


async def visible_exam_point(exam_point_id: str, request: Request,
                             user: Principal = Depends(current_user)) -> ExamPoint:
    """Dependency for routes with ``{exam_point_id}`` (numeric id or code such as EP-WZ-02)."""
    from sqlalchemy import select

    with request.app.state.db.session() as s:
        if (rid := row_id(exam_point_id)) is not None:
            ep = s.get(ExamPoint, rid)
        else:
            ep = s.scalar(select(ExamPoint).where(ExamPoint.code == exam_point_id))
    return check_city(user, ep)


# ---------------------------------------------------------------- login throttling
class LoginThrottle:
    """Failed logins per user name and per client address in a sliding window.

    In memory: ``serve`` runs one process, so one counter sees every attempt. After
    ``max_failures`` failures within ``window_s`` seconds the key answers 429 until the oldest
    failure leaves the window; a success clears the user name's counter.
    """

    def __init__(self, max_failures: int, window_s: float, clock=time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._fails[key]
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, *keys: str) -> int:
        """Seconds until a login may be tried again (0: allowed now)."""
        now = self.clock()
        with self._lock:
            waits = [self.window_s - (now - q[0]) for q in (self._trim(k, now) for k in keys)
                     if len(q) >= self.max_failures]
        return int(max(waits) + 1) if waits else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                self._trim(k, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


def login_keys(request: Request, username: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()}", f"addr:{request.client.host if request.client else '?'}"
