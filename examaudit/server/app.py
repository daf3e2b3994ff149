"""``create_app(settings)``: the FastAPI app. Mounts routes and static files; nothing else.

Routes are found, not listed: every module in ``examaudit/server/routes/`` that defines
``router`` (an APIRouter) or ``make_router(settings)`` is included, so the API, page and
cases modules are added without editing this file; one that defines ``install(app)`` is
called with the app (the pages install their HTML error handler this way).
"""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DBAPIError

from .. import __version__
from ..errors import DiskFull, disk_full, is_disk_full
from . import routes as routes_pkg
from .db import Database, ValueDoesNotFit, migrate
from .jobs import JobQueue
from .logs import setup_logging
from .security import LoginThrottle, NotAuthenticated
from .settings import Settings

HERE = Path(__file__).parent


def _route_modules():
    for info in sorted(pkgutil.iter_modules(routes_pkg.__path__), key=lambda i: i.name):
        yield importlib.import_module(f"{routes_pkg.__name__}.{info.name}")


def _run_job_fn(app: FastAPI):
    def run(job_id: int) -> None:
        from .services.jobs import run_job

        run_job(app.state, job_id)

    return run


def _withdraw_job_fn(app: FastAPI):
    def withdraw(job_id: int) -> None:
        from .services.jobs import withdraw_job

        withdraw_job(app.state.db, job_id)

    return withdraw


def create_app(settings: Settings) -> FastAPI:
    """Build the app on ``settings``: migrate the database, open the queue, mount every router."""
    log = setup_logging()
    migrate(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from .services.jobs import unfinished_job_ids

        app.state.queue.start(unfinished_job_ids(app.state.db))
        log.info("server started", extra={"data_dir": str(settings.data_dir), "workers": settings.workers})
        try:
            yield
        finally:
            app.state.queue.stop()
            app.state.db.engine.dispose()
            log.info("server stopped")

    app = FastAPI(title="examaudit", version=__version__, lifespan=lifespan,
                  description="考点审计服务 / The exam-point audit server (see docs/server.md).")
    app.state.settings = settings
    app.state.log = log
    app.state.db = Database(settings.database_url)
    app.state.login_throttle = LoginThrottle(settings.login_max_failures, settings.login_window_s)
    app.state.queue = JobQueue(settings.queue_path, _run_job_fn(app), workers=settings.workers,
                               withdraw=_withdraw_job_fn(app))

    @app.exception_handler(NotAuthenticated)
    async def _login_needed(request: Request, exc: NotAuthenticated):
        wants_html = "text/html" in request.headers.get("accept", "")
        if request.url.path.startswith("/api/") or not wants_html:
            return JSONResponse({"detail": "login required"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(OSError)
    @app.exception_handler(DBAPIError)
    @app.exception_handler(sqlite3.Error)  # the job queue's own writes (huey on DATA/queue.db)
    @app.exception_handler(DiskFull)
    async def _disk_full(request: Request, exc: Exception):
        # A full disk (files, or the database's own "disk is full") is 507 with one line saying
        # how much is free, not a 500 traceback; every other error goes on to the 500 handler.
        if not is_disk_full(exc):
            raise exc
        message = str(exc) if isinstance(exc, DiskFull) else str(disk_full(settings.data_dir))
        log.warning("disk full", extra={"path": request.url.path, "error": str(exc)[:500]})
        return await _as_http_error(request, 507, message)

    @app.exception_handler(ValueDoesNotFit)
    async def _does_not_fit(request: Request, exc: ValueDoesNotFit):
        # checked before the flush (db.py), so nothing was written: the client's input, not a bug
        return await _as_http_error(request, 422, str(exc))

    async def _as_http_error(request: Request, status: int, message: str):
        # through the HTTP error handler: a browser gets the error page, an API client the JSON line
        from fastapi.exception_handlers import http_exception_handler
        from starlette.exceptions import HTTPException as StarletteHTTPException

        handler = app.exception_handlers.get(StarletteHTTPException, http_exception_handler)
        return await handler(request, StarletteHTTPException(status, message))

    static = HERE / "static"
    if static.is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=static), name="static")

    for module in _route_modules():
        if hasattr(module, "make_router"):
            app.include_router(module.make_router(settings))
        elif hasattr(module, "router"):
            app.include_router(module.router)
        if hasattr(module, "install"):  # app-wide hooks a route module needs (e.g. HTML error pages)
            module.install(app)
    _declare_refusals(app)
    return app


def _declare_refusals(app: FastAPI) -> None:
    """Say in /openapi.json what a 422 really carries, and that any operation may answer 507.

    FastAPI declares 422 as its validation list (``detail: [{loc, msg, type}]``), but a refused
    input (a register that is not .csv/.xlsx, a bad exam_point.yaml) answers 422 with one line in
    ``detail``, the line the CLI prints. Clients and the API fuzzer read the schema: it must allow both.
    """
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            err = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if err and "detail" in err.get("properties", {}):
                listed = err["properties"]["detail"]
                err["properties"]["detail"] = {
                    "title": "Detail", "anyOf": [{k: v for k, v in listed.items() if k != "title"},
                                                 {"type": "string", "description": "一行说明 / the one-line refusal"}]}
            # any request that writes, or rebuilds a report, can meet a full disk (see the 507 handler)
            full = {"description": "磁盘空间不足 / disk full: one line saying how much is free",
                    "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}}}
            for path, item in schema.get("paths", {}).items():
                for op in item.values():
                    if isinstance(op, dict) and "responses" in op:
                        op["responses"].setdefault("507", full)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
