"""The login page (form fields ``username`` and ``password``) and signing out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from ..security import Principal, current_user, end_session, start_session
from .api_auth import check_login
from .pages_common import lang_of, render, safe_next
from .pages_text import t

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/login")
def login_page(request: Request, next: str = "/"):
    return render(request, "pages/login.html.j2", {"next": safe_next(next), "error": None, "notice": None})


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    lang = lang_of(request)
    try:
        user = check_login(request, username, password)
    except HTTPException as exc:
        msg = t("login_locked" if exc.status_code == 429 else "login_failed", lang)
        return render(request, "pages/login.html.j2",
                      {"next": safe_next(next), "error": msg, "notice": None, "username": username},
                      # a page, not an API: the message says what went wrong, and browsers log 4xx documents
                      # as console errors
                      status_code=200)
    resp = RedirectResponse(safe_next(next), status_code=303)
    start_session(resp, request, user)
    return resp


@router.post("/logout")
def logout(request: Request, user: Principal = Depends(current_user)):
    resp = RedirectResponse("/login", status_code=303)
    end_session(resp, request)
    return resp
