"""Admin pages: users, roles and city scope (admin only); the job queue with cancel (everyone reads it,
auditors and admins cancel). The services are the ones ``examaudit users`` and the API call."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from ...errors import InputError
from ..models import ROLES
from ..security import Principal, current_user, require_role
from ..services import users as users_service
from .pages_common import lang_of, render
from .pages_text import t

router = APIRouter(tags=["pages"], include_in_schema=False)


def _users_page(request: Request, user: Principal, error: str | None = None, ok: str | None = None,
                status_code: int = 200):
    with request.app.state.db.session() as s:
        rows = [{"name": u.name, "role": u.role, "city": u.city, "disabled": u.disabled,
                 "last_login_at": u.last_login_at, "created_at": u.created_at} for u in users_service.list_users(s)]
    return render(request, "pages/admin_users.html.j2", {"rows": rows, "roles": ROLES, "error": error, "ok": ok},
                  user, status_code=status_code, nav="users")


@router.get("/admin/users")
def users_page(request: Request, user: Principal = Depends(require_role("admin"))):
    return _users_page(request, user)


@router.post("/admin/users")
def users_add(request: Request, name: str = Form(""), role: str = Form("viewer"), city: str = Form(""),
              password: str = Form(""), user: Principal = Depends(require_role("admin"))):
    try:
        with request.app.state.db.session() as s:
            users_service.add_user(s, name, role, password, city.strip() or None)
    except InputError as exc:
        return _users_page(request, user, error=str(exc), status_code=422)
    request.app.state.log.info("user added", extra={"by": user.name, "user": name, "role": role})
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/disable")
def users_disable(request: Request, name: str, user: Principal = Depends(require_role("admin"))):
    try:
        with request.app.state.db.session() as s:
            users_service.disable_user(s, name)
    except InputError as exc:
        return _users_page(request, user, error=str(exc), status_code=404)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/reset-password")
def users_reset(request: Request, name: str, password: str = Form(""),
                user: Principal = Depends(require_role("admin"))):
    try:
        with request.app.state.db.session() as s:
            users_service.reset_password(s, name, password)
    except InputError as exc:
        return _users_page(request, user, error=str(exc), status_code=422)
    return _users_page(request, user, ok=t("saved", lang_of(request)))
