"""What every HTML page shares: the template environment, the language, the user bar, CSRF.

Pages are HTTP only. They ask the services (the same functions the JSON API calls) for data,
and :mod:`examaudit.server.pageviews` for drawing geometry; nothing here decides anything.
The module defines no ``router``: it is imported by the ``pages_*`` route modules.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import select_autoescape

from ...findings import Severity
from ...report.mask import mask_text, mask_value
from ..security import Principal
from .pages_text import LANGS, t

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANG_COOKIE = "examaudit_lang"
SEVERITIES = [s.value for s in reversed(list(Severity))]  # critical first

templates = Jinja2Templates(directory=str(TEMPLATES))
env = templates.env
# Starlette escapes only names ending in .html; ours end in .html.j2, so every exam point name,
# file name and comment would reach the page as raw HTML (a stored script) without this.
env.autoescape = select_autoescape(["html", "j2"])
env.trim_blocks = True
env.lstrip_blocks = True


def _fmt_time(v: Any, with_seconds: bool = False) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v)
        except ValueError:
            return v
    if isinstance(v, datetime):
        from datetime import timezone
        from zoneinfo import ZoneInfo

        if v.tzinfo is None:  # the database stores UTC without an offset (SQLite drops it)
            v = v.replace(tzinfo=timezone.utc)
        v = v.astimezone(ZoneInfo("Asia/Shanghai"))  # the province's clock, whatever the server's
        return v.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
    return str(v)


env.filters["when"] = _fmt_time
env.filters["pct"] = lambda v: "—" if v is None or v != v else f"{100 * float(v):.0f}%"
env.filters["qfmt"] = lambda v: "—" if v is None else (f"{float(v):.3g}" if float(v) >= 0.001 else f"{float(v):.1e}")
env.filters["filesize"] = lambda n: "—" if n is None else next(
    f"{n / d:.1f} {u}" for d, u in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB"), (1, "B")) if n >= d or d == 1)
env.filters["urlq"] = lambda v: quote(str(v), safe="")


def lang_of(request: Request) -> str:
    """``?lang=`` wins (and is remembered by the page that sets the cookie), then the cookie; zh by default."""
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get(LANG_COOKIE)
    return c if c in LANGS else "zh"


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths may be redirect targets (no //host, no scheme)."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return default
    return value


def masker(user: Principal | None):
    """Mask personal data as the report does, unless the role may see it in full."""
    show = user is not None and user.sees_personal_data

    def mask(key: str, value: Any) -> Any:
        return value if show else mask_value(key, value)

    def text(value: Any) -> Any:
        return value if show or not isinstance(value, str) else mask_text(value)

    return mask, text


def render(request: Request, name: str, ctx: dict[str, Any], user: Principal | None = None,
           status_code: int = 200, nav: str | None = None) -> HTMLResponse:
    lang = lang_of(request)
    mask, mask_txt = masker(user)
    base = {
        "request": request,
        "user": user,
        "lang": lang,
        "t": lambda key, **kw: t(key, lang, **kw),
        "csrf": (user.csrf if user is not None else "") or "",
        "nav": nav,
        "severities": SEVERITIES,
        "mask": mask,
        "mask_text": mask_txt,
        "can": (lambda role: user is not None and user.at_least(role)),
        "lang_url": lambda code: _lang_url(request, code),
        "path": request.url.path + (("?" + request.url.query) if request.url.query else ""),
    }
    base.update(ctx)
    resp = templates.TemplateResponse(request, name, base, status_code=status_code)
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True, path="/")
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def _lang_url(request: Request, code: str) -> str:
    from urllib.parse import urlencode

    q = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", code)]
    return request.url.path + "?" + urlencode(q)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"
