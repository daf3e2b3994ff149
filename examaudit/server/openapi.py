"""What /openapi.json says a file download returns.

FastAPI documents every 200 as application/json unless told otherwise; a route that sends an xlsx,
docx, PDF or zip must say so, or clients (and the API fuzzer, tests/server/test_fuzz_api.py) see a
response that breaks its schema. ``**file_download(XLSX)`` in the route decorator says it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from fastapi.responses import Response

from .models import MAX_ROW_ID


def file_download(*media_types: str) -> dict:
    """Decorator keywords for a route whose 200 is a file of one of ``media_types``."""
    return {"response_class": Response,
            "responses": {200: {"description": "文件 / the file", "content": {m: {} for m in media_types}}}}


# A database row id in a path: bounded, so a 30-digit id is a 422 rather than an overflow (a 500)
# in the database. Found by the API fuzzer.
RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID)]
