"""Benchmark of province-wide screening: the local pool against a Dask LocalCluster.

Builds a synthetic province with the scenario generator (generated data: say so when quoting),
then screens it, each configuration in a fresh process and a fresh output folder:

* the local pool with 1 and 2 workers, a Dask LocalCluster with 1 and 2 worker processes
  (one thread each: the same core count as the pool);

and prints camera-hours screened per hour per core, the 1 -> 2 worker scaling, the Dask
overhead against the pool, peak memory per worker, whether the planted exam points ranked
first, and the two limits of scaling out measured here: reading footage (MB/s and camera-hours
of footage read per second by sha256, which every analysis does) and the Dask scheduler's cost
per task (a graph of no-op tasks).

    .venv/bin/python benchmarks/bench_screen.py                      # 6 exam points x 2 cameras x 5 min
    .venv/bin/python benchmarks/bench_screen.py --points 12 --cameras 4 --minutes 20 --planted 3   # the issue's size

Reports and packs are left out of the timed runs (they cost per exam point, not per footage
hour); one exam point's report and pack are timed on their own.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = ("pool:1", "pool:2", "dask:1", "dask:2")


def _maxrss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _worker_maxrss() -> float:
    import resource as r

    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024


def run_one(config: str, province: Path, out: Path, every: float) -> dict:
    """One configuration, in this (fresh) process; returns its timings and memory."""
    from examaudit.screen import screen_province
    from examaudit.video.analyze import AnalyzeParams

    kind, n = config.split(":")
    n = int(n)
    params = AnalyzeParams(every_s=every)
    cpu0 = os.times()
    t0 = time.perf_counter()
    worker_mb: list[float] = []
    if kind == "pool":
        result = screen_province(province, out, params=params, workers=n, reports=False)
        wall = time.perf_counter() - t0
        worker_mb = [_maxrss_mb(resource.RUSAGE_CHILDREN if n > 1 else resource.RUSAGE_SELF)]
    else:
        import dask
        from distributed import Client, LocalCluster

        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.CRITICAL) as lc, \
                    Client(lc) as client:
                t_up = time.perf_counter() - t0
                result = screen_province(province, out, params=params, client=client, reports=False)
                wall = time.perf_counter() - t0
                worker_mb = sorted(client.run(_worker_maxrss).values())
        _ = t_up
    cpu1 = os.times()
    truth = json.loads((province / "province_truth.json").read_text(encoding="utf-8"))
    ranks = {r.score.exam_point: r.rank for r in result.ranked}
    planted = [ranks[e] for e in truth["planted"]]
    clean = [ranks[e] for e in truth["clean"]]
    return {"config": config, "wall_s": wall, "hours": result.plan.hours,
            "cpu_s": (cpu1.user + cpu1.system + cpu1.children_user + cpu1.children_system)
            - (cpu0.user + cpu0.system + cpu0.children_user + cpu0.children_system),
            "worker_peak_mb": worker_mb, "client_peak_mb": _maxrss_mb(resource.RUSAGE_SELF),
            "planted_ranks": sorted(planted), "clean_ranks": sorted(clean),
            "planted_first": max(planted) < min(clean) if planted and clean else None,
            "recordings": result.counts()}


def io_rate(province: Path) -> dict:
    """Read every footage file once (sha256, as analysis does): MB/s and footage hours per second."""
    from examaudit.screen import footage_seconds

    files = sorted(province.glob("exam_points/*/footage/*"))
    t0 = time.perf_counter()
    size = 0
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    dt = time.perf_counter() - t0
    hours = sum(footage_seconds(f) for f in files) / 3600
    return {"mb_s": size / 1e6 / dt, "hours_per_s": hours / dt, "mb_per_hour": size / 1e6 / max(hours, 1e-9)}


def scheduler_overhead(tasks: int = 2000) -> float:
    """Milliseconds of Dask per no-op task on a 2-worker LocalCluster (submission to result)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as lc, Client(lc) as c:
        c.gather(c.map(int, range(100), pure=False))  # warm up
        t0 = time.perf_counter()
        c.gather(c.map(int, range(tasks), pure=False))
        return (time.perf_counter() - t0) / tasks * 1000


def report_cost(out: Path) -> float:
    """Seconds to write one exam point's report (HTML + PDF) and evidence pack."""
    from examaudit.screen import report_exam_point

    ep = sorted(p.parent for p in out.glob("*/screening.json"))[0]
    t0 = time.perf_counter()
    report_exam_point(ep, "zh", False)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=6)
    ap.add_argument("--cameras", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--planted", type=int, default=2)
    ap.add_argument("--every", type=float, default=5.0, help="sampling interval, as `screen --every` (default 5 s)")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS)
    ap.add_argument("--province", type=Path, help="reuse a province built by an earlier run")
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.province, args.out, args.every)))
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_screen-"))
    province = args.province or work / "province"
    if not (province / "province_truth.json").is_file():
        from examaudit.scenarios.province import build_province

        t0 = time.perf_counter()
        build_province(province, points=args.points, cameras=args.cameras, duration_s=args.minutes * 60,
                       planted=args.planted, seed=2026)
        print(f"built a synthetic province (generated data): {args.points} exam points x {args.cameras} cameras x "
              f"{args.minutes:g} min, {args.planted} planted, in {time.perf_counter() - t0:.0f} s -> {province}")
    io = io_rate(province)
    print(f"footage read (sha256): {io['mb_s']:.0f} MB/s = {io['hours_per_s']:.1f} camera-hours/s "
          f"({io['mb_per_hour']:.0f} MB per camera-hour at this bitrate)")
    rows = {}
    for config in args.configs:
        out = work / f"out-{config.replace(':', '-')}"
        proc = subprocess.run([sys.executable, __file__, "--one", config, "--province", str(province), "--out", str(out),
                               "--every", str(args.every)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{config}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rows[config] = r
        cores = int(config.split(":")[1])
        rate = r["hours"] / (r["wall_s"] / 3600) / cores
        print(f"{config}: {r['hours']:.2f} camera-hours in {r['wall_s']:.0f} s wall ({r['cpu_s']:.0f} s CPU) = "
              f"{rate:.1f} camera-hours per hour per core ({r['hours'] * 3600 / r['wall_s']:.0f}x real time), "
              f"{r['hours'] / (r['cpu_s'] / 3600):.1f} camera-hours per CPU-hour; "
              f"peak memory per worker {', '.join(f'{m:.0f}' for m in r['worker_peak_mb'])} MB; "
              f"planted ranks {r['planted_ranks']} vs clean {r['clean_ranks']} (planted first: {r['planted_first']})")
    for kind in ("pool", "dask"):
        a, b = rows.get(f"{kind}:1"), rows.get(f"{kind}:2")
        if a and b:
            print(f"{kind} scaling 1 -> 2 workers: x{a['wall_s'] / b['wall_s']:.2f} (ideal x2.00)")
    for n in (1, 2):
        p, d = rows.get(f"pool:{n}"), rows.get(f"dask:{n}")
        if p and d:
            print(f"Dask overhead against the pool, {n} worker(s): {100 * (d['wall_s'] / p['wall_s'] - 1):+.1f} % wall time")
    print(f"Dask scheduler: {scheduler_overhead():.2f} ms per no-op task (2-worker LocalCluster)")
    done = next((work / f"out-{c.replace(':', '-')}" for c in rows), None)
    if done:
        print(f"one exam point's report (HTML + PDF) and evidence pack: {report_cost(done):.1f} s")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end (other jobs share it)")


if __name__ == "__main__":
    main()
