"""What /openapi.json says a file download returns.

FastAPI documents every 200 as application/json unless told otherwise; a route that sends an xlsx,
docx, PDF or zip must say so, or clients (and the API fuzzer, tests/server/test_fuzz_api.py) see a
response that breaks its schema. ``**file_download(XLSX)`` in the route decorator says it.
"""

from __future__ import annotations

from fastapi.responses import Response


def file_download(*media_types: str) -> dict:
    """Decorator keywords for a route whose 200 is a file of one of ``media_types``."""
    return {"response_class": Response,
            "responses": {200: {"description": "文件 / the file", "content": {m: {} for m in media_types}}}}
