"""Load on a real `examaudit serve`: page latency with 50 people browsing, 5 uploading and 2 audits running.

Starts `examaudit serve --port 0 --workers 2` on a temporary data directory on 127.0.0.1 (or uses
one already running with ``--url`` and ``--data``, loopback only), creates a viewer, a reviewer and
an auditor in one city, imports the generated sample exam points (sample_media/EP-WZ-02 and EP-HZ-01,
both placed in that city) and waits for their first audits, so the finding pages have content.

Then, for a fixed ``--duration``, with asyncio and httpx:

- ``--browsers`` people (default 50) each log in through the real /login form (cookie session, the
  CSRF token read from the page as a browser's script reads it) and loop over the dashboard, an exam
  point page, its findings list, one finding's page with its first evidence frame, and the job list,
  waiting 0.5-2 s (seeded) between pages;
- ``--uploaders`` auditors (default 5) each send a generated file of ``--upload-mb`` through the
  tus endpoint (creation, then PATCH chunks with the session's CSRF header, as the upload page does),
  again and again, to an exam point of their own whose YAML names that file;
- ``--audits`` auditors (default 2) each keep an audit running on one exam point: start it, poll
  it once a second, start it again when it ends. Before each restart the finished recordings'
  ``done.json`` are removed (when the data directory is known), so every run analyses the footage
  again instead of reusing it.

Before the load, a baseline in the same run: one person browsing the same pages with nothing else
running, for ``--baseline`` seconds, so the latency ratio under load is printed.

Every response other than the expected status, every exception and every timeout is an error,
printed with its URL and status. Prints requests per kind, p50/p95/max page latency (and for the
API and upload requests apart), errors, audits completed, MB uploaded, the server's peak RSS and
the load average. Exits 1 when there was any error. The data are generated; the machine may be
loaded by other work (the load average is printed so that figures can be read against it).

    .venv/bin/python benchmarks/bench_load.py                   # 60 s, 50 + 5 + 2
    .venv/bin/python benchmarks/bench_load.py --duration 20 --browsers 10
    .venv/bin/python benchmarks/bench_load.py --url http://127.0.0.1:8000 --data examaudit-data
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import ipaddress
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ("EP-WZ-02", "EP-HZ-01")
PASSWORD = "load bench password"
CITY = "温州市"
#: The pages a person browses, in the order of one round (the findings list is the API the pages share).
PAGES = ("dashboard", "exam_point", "findings_list", "finding", "jobs")
TIMEOUT_S = 30.0
_CSRF = re.compile(r'data-csrf="([^"]+)"')
_EVIDENCE = re.compile(r'(/api/v1/findings/[^"/]+/evidence/\d+)')
UPLOAD_YAML = """exam_point: {code}
name: 负载测试上传考点
city: {city}
sessions: [{{id: S1, start: "2024-06-20 09:00", end: "2024-06-20 11:00"}}]
rooms:
  - id: R1
    cameras: [{{id: C1, footage: [footage/load.mp4]}}]
"""


# ---------------------------------------------------------------- what was measured
@dataclass
class Tally:
    """Every request's latency by kind, and every error with its URL and status."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    audits_done: int = 0
    audits_reanalysed: int = 0
    uploads_done: int = 0
    bytes_uploaded: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.latency.setdefault(kind, []).append(seconds)

    def error(self, kind: str, url: str, what: str) -> None:
        self.errors.append(f"{kind} {url}: {what}")

    def count(self, kinds=None) -> int:
        return sum(len(v) for k, v in self.latency.items() if kinds is None or k in kinds)

    def pooled(self, kinds) -> list[float]:
        return sorted(x for k in kinds for x in self.latency.get(k, []))


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of already sorted values; nan when there are none."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def summary_ms(values: list[float]) -> str:
    v = sorted(values)
    return (f"p50 {1000 * percentile(v, 50):7.1f} ms  p95 {1000 * percentile(v, 95):7.1f} ms  "
            f"max {1000 * max(v, default=float('nan')):7.1f} ms  (n={len(v)})")


# ---------------------------------------------------------------- one client, as a browser is one
class Visitor:
    """A logged-in session (cookie + CSRF token) whose requests are timed into a Tally."""

    def __init__(self, url: str, tally: Tally):
        self.url = url
        self.tally = tally
        self.client = httpx.AsyncClient(base_url=url, timeout=TIMEOUT_S, follow_redirects=False,
                                        headers={"Accept": "text/html,application/json"})
        self.csrf = ""

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, kind: str, method: str, path: str, expect=(200,), **kw) -> httpx.Response | None:
        """The response when its status is expected; otherwise an error is counted and None returned."""
        t0 = time.perf_counter()
        try:
            r = await self.client.request(method, path, **kw)
        except (httpx.HTTPError, OSError) as exc:
            self.tally.error(kind, path, f"{type(exc).__name__}: {exc}")
            return None
        self.tally.add(kind, time.perf_counter() - t0)
        if r.status_code not in expect:
            self.tally.error(kind, path, f"HTTP {r.status_code} {r.text[:200]!r}")
            return None
        return r

    async def login(self, name: str, password: str = PASSWORD) -> bool:
        """The /login form as a browser submits it; then the CSRF token from the first page."""
        if await self.call("login", "GET", "/login") is None:
            return False
        r = await self.call("login", "POST", "/login", expect=(303,),
                            data={"username": name, "password": password, "next": "/"})
        if r is None:
            return False
        if "examaudit_session" not in self.client.cookies:
            self.tally.error("login", "/login", f"no session cookie for {name} (wrong password?)")
            return False
        page = await self.call("login", "GET", r.headers["location"])
        m = _CSRF.search(page.text) if page is not None else None
        if m is None:
            self.tally.error("login", "/", "no CSRF token on the page after login")
            return False
        self.csrf = m.group(1)
        return True

    @property
    def csrf_header(self) -> dict:
        return {"X-CSRF-Token": self.csrf}


# ---------------------------------------------------------------- the three kinds of user
async def browse(v: Visitor, codes: list[str], until: float, rng: random.Random, think=(0.5, 2.0)) -> None:
    """Dashboard, exam point page, its findings, one finding (and its first frame), the job list; again."""
    while time.monotonic() < until:
        code, found = rng.choice(codes), []
        for page in PAGES:
            if time.monotonic() >= until:
                return
            if page == "dashboard":
                await v.call(page, "GET", "/")
            elif page == "exam_point":
                await v.call(page, "GET", f"/exam-points/{code}")
            elif page == "findings_list":
                r = await v.call(page, "GET", f"/api/v1/exam-points/{code}/findings")
                found = r.json() if r is not None else []
            elif page == "finding":
                if not found:
                    continue
                r = await v.call(page, "GET", f"/findings/{rng.choice(found)['id']}")
                frame = _EVIDENCE.search(r.text) if r is not None else None
                if frame:  # the browser then loads the frame the page shows first
                    await v.call("evidence", "GET", frame.group(1))
            elif page == "jobs":
                await v.call(page, "GET", "/admin/jobs")
            if think[1] > 0:
                await asyncio.sleep(rng.uniform(*think))


def _tus_metadata(meta: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())


async def upload_loop(v: Visitor, codes: list[str], payload: bytes, chunk: int, until: float) -> None:
    """tus creation + PATCH chunks, as the upload page's tus-js-client sends them, until time is up."""
    meta = {"role": "footage", "room": "R1", "camera": "C1", "filename": "load.mp4", "filetype": "video/mp4"}
    base = {"Tus-Resumable": "1.0.0", **v.csrf_header}
    sent_to = 0
    while time.monotonic() < until:
        code = codes[min(sent_to // UPLOADS_PER_EXAM_POINT, len(codes) - 1)]
        r = await v.call("tus_create", "POST", "/api/v1/uploads/", expect=(201,), headers={
            **base, "Upload-Length": str(len(payload)), "Upload-Metadata": _tus_metadata({**meta, "exam_point": code})})
        if r is None:
            await asyncio.sleep(1)
            continue
        location, offset = r.headers["location"], 0
        while offset < len(payload):
            body = payload[offset:offset + chunk]
            r = await v.call("tus_patch", "PATCH", location, expect=(204,), content=body, headers={
                **base, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            if r is None:
                break
            offset = int(r.headers.get("upload-offset", offset + len(body)))
            v.tally.bytes_uploaded += len(body)
        else:
            v.tally.uploads_done += 1
            sent_to += 1


#: tus uploads an exam point takes before the uploader moves to its next one (the server allows 500).
UPLOADS_PER_EXAM_POINT = 400


def forget_finished_recordings(data_dir: Path | None, code: str) -> int:
    """Remove the audit's done.json files so its next run analyses the footage again (not a reuse)."""
    if data_dir is None:
        return 0
    done = list((data_dir / "exam_points" / code / "audit").rglob("done.json"))
    for p in done:
        p.unlink(missing_ok=True)
    return len(done)


async def audit_loop(v: Visitor, code: str, until: float, data_dir: Path | None, jobs: list[int]) -> None:
    """Keep one audit of ``code`` running: start, poll every second, start again when it ends."""
    while time.monotonic() < until:
        r = await v.call("audit_start", "POST", f"/api/v1/exam-points/{code}/audits", expect=(202,),
                         headers=v.csrf_header)
        if r is None:
            await asyncio.sleep(1)
            continue
        job = r.json()["job"]
        jobs.append(job)
        while time.monotonic() < until:
            await asyncio.sleep(1)
            j = await v.call("job_poll", "GET", f"/api/v1/jobs/{job}")
            if j is None:
                continue
            state = j.json()
            if state["state"] in ("done", "failed", "cancelled"):
                if state["state"] != "done":
                    v.tally.error("audit", f"/api/v1/jobs/{job}", f"{state['state']}: {state['message']}")
                else:
                    v.tally.audits_done += 1
                    v.tally.audits_reanalysed += " analysed 0," not in state["message"]
                forget_finished_recordings(data_dir, code)
                break


# ---------------------------------------------------------------- machine figures
def rss_kb(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def sample_machine(pid: int | None, until: float, peak: list[int], loads: list[float]) -> None:
    while time.monotonic() < until:
        peak[0] = max(peak[0], rss_kb(pid))
        loads.append(os.getloadavg()[0])
        await asyncio.sleep(0.5)


# ---------------------------------------------------------------- the run
@dataclass
class Setup:
    """What the load needs: the server, the audited exam points, upload targets and the accounts."""

    url: str
    audited: list[str]
    upload_points: list[list[str]]  # per uploader, the exam points it fills one after another
    browsing_users: list[str]
    auditor: str
    data_dir: Path | None = None
    pid: int | None = None


@dataclass
class Result:
    baseline: Tally
    load: Tally
    duration_s: float
    rss_peak_kb: int = 0
    rss_start_kb: int = 0
    loads: list[float] = field(default_factory=list)


async def _logged_in(url: str, tally: Tally, names: list[str], parallel: int = 4) -> list[Visitor]:
    """One session per name, a few logins at a time (each login is a deliberately slow argon2 check)."""
    gate = asyncio.Semaphore(parallel)

    async def one(name: str) -> Visitor:
        v = Visitor(url, tally)
        async with gate:
            await v.login(name)
        return v

    return list(await asyncio.gather(*(one(n) for n in names)))


async def run_load(setup: Setup, duration: float, browsers: int, uploaders: int, audits: int,
                   baseline_s: float = 5.0, upload_bytes: int = 4 << 20, chunk_bytes: int = 1 << 20,
                   seed: int = 18, think=(0.5, 2.0)) -> Result:
    """The baseline (one person browsing, nothing else), then every kind of user at once for ``duration``."""
    base = Tally()
    solo = (await _logged_in(setup.url, base, [setup.browsing_users[0]]))[0]
    await browse(solo, setup.audited, time.monotonic() + baseline_s, random.Random(seed), think=(0.0, 0.0))
    await solo.close()

    tally = Tally()
    names = [setup.browsing_users[i % len(setup.browsing_users)] for i in range(browsers)]
    people = await _logged_in(setup.url, tally, names)
    up = await _logged_in(setup.url, tally, [setup.auditor] * uploaders)
    aud = await _logged_in(setup.url, tally, [setup.auditor] * audits)
    rng = random.Random(seed)
    payloads = [rng.randbytes(upload_bytes) for _ in up]
    jobs: list[int] = []
    peak, loads = [rss_kb(setup.pid)], []
    start_rss = peak[0]
    t0 = time.monotonic()
    until = t0 + duration
    tasks = [browse(v, setup.audited, until, random.Random(seed * 1000 + i), think) for i, v in enumerate(people)]
    tasks += [upload_loop(v, setup.upload_points[i % len(setup.upload_points)], payloads[i], chunk_bytes, until)
              for i, v in enumerate(up)]
    tasks += [audit_loop(v, setup.audited[i % len(setup.audited)], until, setup.data_dir, jobs)
              for i, v in enumerate(aud)]
    tasks.append(sample_machine(setup.pid, until, peak, loads))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    for job in jobs:  # leave no audit running behind the bench (a finished one answers 200 too)
        await aud[0].call("cancel", "POST", f"/api/v1/jobs/{job}/cancel", expect=(200,), headers=aud[0].csrf_header)
    for v in people + up + aud:
        await v.close()
    return Result(base, tally, elapsed, peak[0], start_rss, loads)


# ---------------------------------------------------------------- preparing a server
def loopback_url(url: str) -> str:
    """``url`` without a trailing slash, when its host is this machine; refuses anything else."""
    host = urlsplit(url).hostname or ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        raise SystemExit(f"refusing {url}: the load bench runs against this machine only (127.0.0.1, ::1, localhost)")
    return url.rstrip("/")


def sample_zip(code: str, city: str) -> bytes:
    """sample_media/<code> with its ../records, the exam point moved into ``city`` (so one city's users see all)."""
    sm = REPO / "sample_media"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted((sm / code).rglob("*")):
            if p.is_file() and "truth" not in p.parts:
                name = f"{code}/{p.relative_to(sm / code).as_posix()}"
                if p.name == "exam_point.yaml":
                    text = re.sub(r"(?m)^city: .*$", f"city: {city}", p.read_text(encoding="utf-8"))
                    zf.writestr(name, text)
                else:
                    zf.write(p, name)
        for p in sorted((sm / "records").iterdir()):
            if p.is_file() and p.name != "truth.json":
                zf.write(p, f"records/{p.name}")
    return buf.getvalue()


async def prepare(url: str, data_dir: Path | None, zips: dict[str, bytes], uploaders: int, city: str,
                  run_id: str, wait_s: float = 1800) -> tuple[list[str], list[list[str]]]:
    """Import the exam points (their first audits start), create the upload exam points, wait for the audits."""
    tally = Tally()
    v = Visitor(url, tally)
    try:
        if not await v.login("load-auditor"):
            raise SystemExit(f"cannot log in as load-auditor: {tally.errors}")
        jobs = {}
        for name, data in zips.items():
            r = await v.call("import", "POST", "/api/v1/exam-points/import", expect=(202,), headers=v.csrf_header,
                             files={"file": (f"{name}.zip", data, "application/zip")}, timeout=300)
            if r is None:
                raise SystemExit(f"import of {name} failed: {tally.errors}")
            jobs[r.json()["code"]] = r.json()["job"]
        upload_points = []
        for i in range(max(uploaders, 1)):
            codes = [f"EP-LOAD-{run_id}-U{i + 1}-{k}" for k in range(1, 4)]
            for code in codes:
                r = await v.call("create", "POST", "/api/v1/exam-points", expect=(201,), headers=v.csrf_header,
                                 content=UPLOAD_YAML.format(code=code, city=city).encode())
                if r is None:
                    raise SystemExit(f"creating {code} failed: {tally.errors}")
            upload_points.append(codes)
        end = time.monotonic() + wait_s
        for code, job in jobs.items():
            while True:
                r = await v.call("job_poll", "GET", f"/api/v1/jobs/{job}")
                state = r.json() if r is not None else {"state": "?"}
                if state["state"] in ("done", "failed", "cancelled"):
                    break
                if time.monotonic() > end:
                    raise SystemExit(f"the first audit of {code} did not finish in {wait_s:.0f} s")
                await asyncio.sleep(1)
            if state["state"] != "done":
                raise SystemExit(f"the first audit of {code} ended {state['state']}: {state.get('message')}")
            forget_finished_recordings(data_dir, code)
        return list(jobs), upload_points
    finally:
        await v.close()


def create_users(data_dir: Path, city: str) -> list[str]:
    """A viewer, a reviewer and an auditor in ``city`` (the calls `examaudit users add` makes, in this
    process: three CLI starts cost seconds each); the browsing sessions take turns among the three.
    A user left by an earlier run gets the bench's password again."""
    from examaudit.errors import InputError
    from examaudit.server.db import Database, migrate
    from examaudit.server.services import users as accounts
    from examaudit.server.settings import Settings

    settings = Settings.from_env(data_dir)
    migrate(settings.database_url)
    db = Database(settings.database_url)
    made = [("load-viewer", "viewer"), ("load-reviewer", "reviewer"), ("load-auditor", "auditor")]
    try:
        for name, role in made:
            try:
                with db.session() as s:
                    accounts.add_user(s, name, role, PASSWORD, city)
            except InputError:
                with db.session() as s:
                    user = accounts.reset_password(s, name, PASSWORD)
                    if (user.role, user.city) != (role, city):
                        raise SystemExit(f"user {name} exists as {user.role} in {user.city}; the bench needs "
                                         f"{role} in {city} (use another --city or data directory)") from None
    finally:
        db.engine.dispose()
    return [n for n, _ in made]


class OwnServer:
    """`examaudit serve --port 0` on a temporary data directory (what a user runs, unless ``fast``)."""

    def __init__(self, data_dir: Path, workers: int, fast: bool, audit_processes: int = 1):
        env = dict(os.environ, PYTHONUNBUFFERED="1", EXAMAUDIT_JOB_AUDIT_WORKERS=str(audit_processes))
        if fast:
            env.update(EXAMAUDIT_AUDIT_PARAMS='{"people": false}', EXAMAUDIT_REPORT_PDF="0")
        self.log = open(data_dir.parent / "serve.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "examaudit.cli", "serve", "--data", str(data_dir), "--host", "127.0.0.1",
             "--port", "0", "--workers", str(workers)], stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.log.seek(0)
            raise SystemExit(f"serve did not start: {line!r} {self.log.read()[-2000:]}")
        self.url = line.split()[2].rstrip("/")
        for _ in range(200):
            try:
                httpx.get(self.url + "/healthz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.05)

    def server_errors(self) -> list[str]:
        """The server's own log lines at level error (tracebacks a client never sees)."""
        self.log.flush()
        self.log.seek(0)
        return [ln.strip() for ln in self.log if '"level": "error"' in ln or "Traceback" in ln]

    def stop(self, keep: Path | None = None) -> None:
        """Stop the server; ``keep``: where its log is copied (the data directory is thrown away)."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log.name, keep)


# ---------------------------------------------------------------- printing
def report(res: Result, args, setup: Setup) -> int:
    base, load = res.baseline, res.load
    print(f"data: generated (sample_media {', '.join(setup.audited)}, random {args.upload_mb} MB uploads); "
          f"audits {'fast (no person detector, no PDF)' if args.fast else 'as a user runs them'}"
          + (f", {args.audit_processes} processes each" if args.audit_processes > 1 else ", in the server process"))
    print(f"load: {args.browsers} browsing, {args.uploaders} uploading, {args.audits} audits, {res.duration_s:.0f} s; "
          f"baseline {args.baseline:.0f} s of one person browsing alone")
    print("\nrequests per kind under load (baseline p50: one person browsing alone):")
    for kind, values in sorted(load.latency.items()):
        alone = sorted(base.latency.get(kind, [])) if kind in PAGES else []
        print(f"  {kind:14s} {summary_ms(values)}" + (f"  baseline p50 {1000 * percentile(alone, 50):.1f} ms"
                                                       if alone else ""))
    b_pages, l_pages = base.pooled(PAGES), load.pooled(PAGES)
    print(f"\nbrowsing pages, baseline: {summary_ms(b_pages)}")
    print(f"browsing pages, loaded:   {summary_ms(l_pages)}")
    for p in (50, 95):
        b, lo = percentile(b_pages, p), percentile(l_pages, p)
        print(f"  p{p} under load = {lo / b:.1f}x the baseline" if b > 0 else "")
    api = ("tus_create", "tus_patch", "audit_start", "job_poll", "evidence")
    print(f"API and upload requests:  {summary_ms(load.pooled(api))}")
    mb = load.bytes_uploaded / 2**20
    print(f"\naudits completed: {load.audits_done} ({load.audits_reanalysed} analysed the footage again)")
    print(f"uploaded: {mb:.0f} MB in {load.uploads_done} complete uploads = {mb / res.duration_s:.1f} MB/s")
    if setup.pid:
        print(f"server RSS: {res.rss_start_kb / 1024:.0f} MB at the start of the load, peak {res.rss_peak_kb / 1024:.0f} MB")
    if res.loads:
        print(f"load average (1 min) during the load: mean {statistics.mean(res.loads):.2f}, max {max(res.loads):.2f} "
              f"on {os.cpu_count()} cores")
    errors = base.errors + load.errors
    print(f"\nerrors: {len(errors)}")
    for e in errors[:50]:
        print(f"  {e}")
    if len(errors) > 50:
        print(f"  ... and {len(errors) - 50} more")
    return 1 if errors else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (default %(default)s)")
    ap.add_argument("--baseline", type=float, default=8.0, help="seconds of one person browsing alone first")
    ap.add_argument("--browsers", type=int, default=50)
    ap.add_argument("--uploaders", type=int, default=5)
    ap.add_argument("--audits", type=int, default=2)
    ap.add_argument("--upload-mb", type=float, default=4.0)
    ap.add_argument("--chunk-mb", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--city", default=CITY)
    ap.add_argument("--fast", action="store_true", help="audits without the person detector and the PDF")
    ap.add_argument("--audit-processes", type=int, default=1, metavar="N",
                    help="processes per audit in the bench's own server (EXAMAUDIT_JOB_AUDIT_WORKERS; default 1: "
                    "the analysis runs in the server process, sharing its GIL with the pages)")
    ap.add_argument("--url", help="a server already running on this machine (needs --data, its data directory)")
    ap.add_argument("--data", type=Path, help="with --url: the server's data directory (users are added there)")
    ap.add_argument("--pid", type=int, help="with --url: the server's process id, for its RSS")
    args = ap.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"uptime before: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")

    with tempfile.TemporaryDirectory(prefix="bench-load-", dir="/tmp") as tmp:
        own = None
        if args.url:
            if args.data is None:
                raise SystemExit("--url needs --data (the server's data directory, to add the bench's users)")
            url, data_dir, pid = loopback_url(args.url), args.data.resolve(), args.pid
        else:
            data_dir = Path(tmp) / "data"
            data_dir.mkdir()
        names = create_users(data_dir, args.city)
        if not args.url:
            own = OwnServer(data_dir, workers=args.audits, fast=args.fast, audit_processes=args.audit_processes)
            url, pid = own.url, own.proc.pid
        try:
            run_id = time.strftime("%H%M%S")
            zips = {code: sample_zip(code, args.city) for code in SAMPLES}
            t = time.monotonic()
            audited, upload_points = asyncio.run(prepare(url, data_dir, zips, args.uploaders, args.city, run_id))
            print(f"setup: {len(audited)} exam points imported and audited in {time.monotonic() - t:.0f} s")
            setup = Setup(url, audited, upload_points, names, "load-auditor", data_dir, pid)
            res = asyncio.run(run_load(setup, args.duration, args.browsers, args.uploaders, args.audits,
                                       baseline_s=args.baseline, upload_bytes=int(args.upload_mb * 2**20),
                                       chunk_bytes=int(args.chunk_mb * 2**20), seed=args.seed))
            rc = report(res, args, setup)
            if own is not None:
                logged = own.server_errors()
                print(f"server log errors: {len(logged)}")
                for ln in logged[:20]:
                    print(f"  {ln[:300]}")
                rc = rc or (1 if logged else 0)
        finally:
            if own is not None:
                own.stop(keep=REPO / "out" / "bench_load-serve.log")
                print("server log: out/bench_load-serve.log")
        print(f"uptime after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        return rc


if __name__ == "__main__":
    sys.exit(main())
