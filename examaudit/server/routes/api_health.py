"""``GET /healthz``: database, queue depth and free disk (public: load balancers call it).

503 when the database or queue fails, or less than ``disk_reserve_bytes`` (1 GB) is free in DATA.
"""

from __future__ import annotations

import shutil

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(request: Request):
    state = request.app.state
    out: dict = {"ok": True}
    try:
        with state.db.session() as s:
            s.execute(text("SELECT 1"))
        out["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this route says what is wrong
        out["ok"], out["database"] = False, f"error: {type(exc).__name__}"
    try:
        out["queue_depth"] = state.queue.depth()
    except Exception as exc:  # noqa: BLE001
        out["ok"], out["queue_depth"] = False, f"error: {type(exc).__name__}"
    usage = shutil.disk_usage(state.settings.data_dir)
    out["disk_free_bytes"] = usage.free
    out["disk_free_ratio"] = round(usage.free / usage.total, 4) if usage.total else None
    if usage.free < state.settings.disk_reserve_bytes:
        out["ok"] = False
    return JSONResponse(out, status_code=200 if out["ok"] else 503)
