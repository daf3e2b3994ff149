"""Issue #18 item 4: schemathesis over every operation of /openapi.json, logged in as an admin.

Zero 5xx and zero responses that break their declared schema (or content type). Each operation is
fuzzed with valid (positive) and invalid (negative) requests, a bounded number of examples each;
a failure is shrunk by hypothesis and reported per operation, so one run lists every broken route.
The run prints its figures (operations, examples, failures). ``make fuzz`` runs it (with more
examples via EXAMAUDIT_FUZZ_EXAMPLES); fixes it found have plain regression tests in
tests/server/test_fuzz_regressions.py.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
)

EXAMPLES = int(os.environ.get("EXAMAUDIT_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _fuzz_operation(op, mode, headers, examples) -> int:
    seen = 0

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(op.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal seen
        seen += 1
        # The token endpoint is fuzzed without the bearer header (it is what hands one out).
        h = {} if op.path == "/api/v1/auth/token" else headers
        response = case.call(headers=h)
        case.validate_response(response, checks=CHECKS)

    run()
    return seen


def _describe(exc: BaseException) -> str:
    parts = [str(e) for e in getattr(exc, "exceptions", ())] or [str(exc)]
    return " | ".join(p.strip()[:600] for p in parts)


@pytest.mark.slow  # ~45 s on a loaded machine; `make fuzz` runs it, and .ci/run calls that
@pytest.mark.timeout(900)
def test_fuzz_every_operation(server):
    admin = server.login("fuzz-admin", "admin")
    # Something to find: an exam point the generated ids may hit (ids are small integers).
    from .exam_point_zips import exam_point_folder

    yaml = (exam_point_folder(server.data_dir.parent / "fuzz") / "exam_point.yaml").read_bytes()
    r = server.client.post("/api/v1/exam-points", content=yaml, headers=admin)
    assert r.status_code == 201, r.text
    schema = schemathesis.openapi.from_asgi("/openapi.json", server.app)
    operations = examples = unnegatable = 0
    failures = []
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                examples += _fuzz_operation(op, mode, admin, EXAMPLES)
            except Unsatisfiable:  # nothing to negate (no parameters, or only a path id): no invalid request
                unnegatable += 1
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — one run reports every route
                failures.append(f"{op.method.upper()} {op.path} [{mode.value}]: {_describe(exc)}")
    print(f"\nfuzz: {operations} operations, {examples} examples ({unnegatable} operations with no invalid"
          f" variant), {len(failures)} failing")
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
