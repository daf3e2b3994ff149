"""``POST /api/v1/auth/token`` (bearer tokens for API clients) and ``GET /api/v1/auth/me``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request

from ..security import Principal, current_user, login_keys, make_token
from ..services.users import authenticate

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def check_login(request: Request, username: str, password: str):
    """Throttled password check shared by the token route and the login page: the User or an HTTP error."""
    throttle = request.app.state.login_throttle
    keys = login_keys(request, username)
    wait = throttle.retry_after(*keys)
    if wait:
        raise HTTPException(429, f"too many failed logins; try again in {wait} s", headers={"Retry-After": str(wait)})
    with request.app.state.db.session() as s:
        user = authenticate(s, username, password)
    if user is None:
        throttle.failed(*keys)
        request.app.state.log.info("login failed", extra={"user": username})
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    throttle.succeeded(keys[0])
    request.app.state.log.info("login", extra={"user": user.name})
    return user


@router.post("/token")
def token(request: Request, username: str = Form(...), password: str = Form(...)) -> dict:
    user = check_login(request, username, password)
    return {"access_token": make_token(request.app.state.settings.secret_key, user), "token_type": "bearer"}


@router.get("/me")
def me(user: Principal = Depends(current_user)) -> dict:
    return {"name": user.name, "role": user.role, "city": user.city}
