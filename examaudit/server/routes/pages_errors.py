"""Errors as pages: a browser that is refused (403) or asks for something it may not see (404)
gets a page in its language with the user bar, not a line of JSON. The API keeps JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException

from .pages_common import lang_of, render
from .pages_text import t

MESSAGES = {403: "forbidden", 404: "not_found"}


def wants_page(request: Request) -> bool:
    return (not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")
            and request.headers.get("HX-Request") != "true")


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _html_errors(request: Request, exc: StarletteHTTPException):
        if not wants_page(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        lang = lang_of(request)
        user = getattr(request.state, "principal", None)
        message = t(MESSAGES[exc.status_code], lang) if exc.status_code in MESSAGES else str(exc.detail)
        return render(request, "pages/error.html.j2", {"status": exc.status_code, "message": message,
                                                        "detail": exc.detail}, user, status_code=exc.status_code)
