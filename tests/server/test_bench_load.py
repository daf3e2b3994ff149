"""The load bench (benchmarks/bench_load.py) run small against a real `examaudit serve`, so it cannot rot.

A few seconds with three people browsing, one uploading and two audits kept running on tiny
generated exam points: every page, upload chunk and audit poll must answer as expected (zero
errors). No timing is asserted; the bench prints the latencies.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from .exam_point_zips import exam_point_zip

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_load.py"
CITY = "温州市"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # its dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_load", None)


def test_load_bench_core_runs_without_errors(bench, live_server, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    names = bench.create_users(data, CITY)
    srv = live_server(data, workers=2)
    zips = {code: exam_point_zip(tmp_path, code, CITY) for code in ("EP-T-01", "EP-T-02")}
    audited, upload_points = asyncio.run(bench.prepare(srv.url, data, zips, uploaders=1, city=CITY, run_id="T"))
    setup = bench.Setup(srv.url, audited, upload_points, names, "load-auditor", data, srv.proc.pid)
    res = asyncio.run(bench.run_load(setup, duration=4, browsers=3, uploaders=1, audits=2, baseline_s=1,
                                     upload_bytes=256 << 10, chunk_bytes=64 << 10, think=(0.05, 0.2)))
    assert res.baseline.errors == [] and res.load.errors == []
    assert set(bench.PAGES) <= set(res.baseline.latency) and set(bench.PAGES) <= set(res.load.latency)
    assert {"evidence", "tus_create", "tus_patch", "audit_start", "job_poll"} <= set(res.load.latency)
    assert res.load.uploads_done >= 1 and res.load.bytes_uploaded >= 256 << 10
    assert res.rss_peak_kb > 0


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "http://example.org", "http://[2001:db8::1]:80/"])
def test_load_bench_refuses_other_hosts(bench, url):
    with pytest.raises(SystemExit, match="this machine only"):
        bench.loopback_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost:9", "http://[::1]:8000"])
def test_load_bench_takes_loopback(bench, url):
    assert bench.loopback_url(url) == url.rstrip("/")


def test_percentile_is_nearest_rank(bench):
    values = [float(i) for i in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0 and bench.percentile(values, 95) == 95.0
    assert bench.percentile([3.0], 95) == 3.0
