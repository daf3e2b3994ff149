"""End to end in a real browser: Debian's chromium driven by Playwright against `examaudit serve`.

The auditor logs in, creates the sample exam point EP-WZ-02 from its YAML, uploads its footage
and records through the upload page (tus), starts the audit and watches it finish; a reviewer
opens a finding, plays its clip and dismisses it with a comment; the auditor moves one seat
corner and saves; the dashboard shows the review and the job; a viewer sees no review buttons
and is refused when posting one anyway. No console errors, no request to another host.
Screenshots of every page go to out/screenshots/.

Run with ``make e2e`` (a few minutes; excluded from the default test run by the ``e2e`` marker).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_media" / "EP-WZ-02"
RECORDS = ROOT / "sample_media" / "records"
SHOTS = ROOT / "out" / "screenshots"
CHROMIUM = os.environ.get("EXAMAUDIT_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "e2e password 2024"
EXE = Path(sys.executable).with_name("examaudit")


def _users(data: Path) -> None:
    for name, role in (("auditor1", "auditor"), ("reviewer1", "reviewer"), ("viewer1", "viewer"), ("admin1", "admin")):
        subprocess.run([str(EXE), "users", "add", name, "--role", role, "--password-stdin", "--data", str(data)],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} absent (scripts/sysdeps.sh installs Debian's chromium)")
    data = tmp_path_factory.mktemp("e2e") / "data"
    _users(data)
    log = open(data.parent / "serve.log", "w")
    proc = subprocess.Popen([str(EXE), "serve", "--data", str(data), "--host", "127.0.0.1", "--port", "0",
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        pytest.fail(f"serve did not start: {line!r}; see {data.parent / 'serve.log'}")
    yield {"url": f"http://127.0.0.1:{m.group(1)}", "data": data}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"])
        yield b
        b.close()


class Watch:
    """Console errors and requests to other hosts, collected over a whole browser context."""

    def __init__(self, context, base: str):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        host = urlsplit(base).netloc
        context.on("console", lambda msg: self.errors.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None)
        context.on("weberror", lambda err: self.errors.append(f"pageerror: {err.error}"))

        def request(req):
            u = urlsplit(req.url)
            if u.scheme in ("http", "https", "ws", "wss") and u.netloc != host:
                self.foreign.append(req.url)

        context.on("request", request)


def login(context, base: str, name: str):
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sample_yaml() -> str:
    """EP-WZ-02's YAML with its records read from records/ beside it (the default), as uploaded."""
    raw = yaml.safe_load((SAMPLE / "exam_point.yaml").read_text(encoding="utf-8"))
    raw.pop("records", None)
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def test_the_whole_review_flow(server, browser):
    base = server["url"]
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    watch = Watch(ctx, base)

    # 1. login (the page, a wrong password, then the real one)
    page = ctx.new_page()
    page.goto(f"{base}/login")
    shot(page, "01-login")
    page.fill("input[name=username]", "auditor1")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("[data-testid=login-error]")
    page.fill("input[name=username]", "auditor1")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    shot(page, "02-dashboard-empty")

    # 2. the exam point from its YAML, then its files through the upload page (tus)
    page.goto(f"{base}/upload")
    page.fill("#yaml-text", sample_yaml())
    page.click("form[action='/upload/exam-points'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/upload\?exam_point=EP-WZ-02$"))
    for cam, clip in (("C1", "R1-C1.mp4"), ("C2", "R2-C2.mp4"), ("C3", "R3-C3.mp4")):
        page.set_input_files(f"[data-testid=drop-{cam}] input[type=file]", str(SAMPLE / "footage" / clip))
    page.set_input_files("[data-testid=drop-records] input[type=file]",
                         [str(RECORDS / f"{r}.csv") for r in ("roster", "scores", "responses", "callbacks", "certificates")])
    page.wait_for_function("document.querySelectorAll('ul.files li[data-done]').length === 8", timeout=120_000)
    page.wait_for_function("Array.from(document.querySelectorAll('ul.files li .sha')).every(e => /sha256 [0-9a-f]{64}/.test(e.textContent))",
                           timeout=30_000)
    assert page.locator("ul.files li[data-error]").count() == 0
    shot(page, "03-upload-done")

    # 3. start the audit and watch it finish; a reload keeps watching the same job
    page.click("#start-audit")
    page.wait_for_url(re.compile(r".*&job=\d+$"))
    page.wait_for_selector("[data-testid=job-progress]")
    shot(page, "04-job-running")
    page.reload()
    page.wait_for_selector("[data-testid=job-progress][data-state=done]", timeout=600_000)
    shot(page, "05-job-done")
    assert "sha256" in page.inner_text("body") or page.locator("td.mono").count() >= 8

    # 4. the dashboard and the exam point page
    page.goto(f"{base}/")
    row = page.locator("tr[data-exam-point=EP-WZ-02]")
    assert "未审核" in row.inner_text() and "高风险" in row.inner_text()
    shot(page, "06-dashboard")
    page.click("a[href='/exam-points/EP-WZ-02']")
    page.wait_for_selector("[data-testid=timeline]")
    shot(page, "07-exam-point")
    ctx.close()

    # 5. a reviewer opens a finding from the timeline, plays its clip, dismisses another with a comment
    rctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    rwatch = Watch(rctx, base)
    page = login(rctx, base, "reviewer1")
    page.goto(f"{base}/exam-points/EP-WZ-02")
    mark = page.locator("[data-testid=timeline] a").first
    mark.click()
    page.wait_for_url(re.compile(r".*/findings/video-.*"))
    video = page.locator("video[data-testid=clip]")
    video.wait_for()
    page.evaluate("document.querySelector('video[data-testid=clip]').muted = true")
    page.evaluate("document.querySelector('video[data-testid=clip]').play()")
    page.wait_for_function("document.querySelector('video[data-testid=clip]').currentTime > 0.5", timeout=60_000)
    assert page.evaluate("document.querySelector('video[data-testid=clip]').videoWidth") > 0
    page.evaluate("document.querySelector('video[data-testid=clip]').pause()")
    shot(page, "08-finding")
    page.locator("a.lightbox-link").first.click()
    page.wait_for_selector("dialog#lightbox[open]")
    shot(page, "09-finding-frame-full")
    page.keyboard.press("Escape")

    # on camera C2: the seat edit below re-runs C1 only, so this decision's finding stays as it is
    page.goto(f"{base}/findings/" + _finding_id(page, base, "extra_person", camera="C2"))
    page.click("button[value=dismissed]")  # no comment yet: refused in the page
    assert page.locator(".comment-error").is_visible()
    page.fill("textarea[name=comment]", "该人员为巡考人员，已核实签到表。")
    with page.expect_response(lambda r: "/api/v1/findings/" in r.url and r.request.method == "POST") as resp:
        page.click("button[value=dismissed]")
    assert resp.value.status == 200 and resp.value.json()["review"]["decision"] == "dismissed"
    page.wait_for_selector("#review-panel .decision.dismissed")
    assert "巡考人员" in page.inner_text("#review-panel")
    shot(page, "10-finding-dismissed")
    page.emulate_media(media="print")  # the finding on paper: no buttons, no player
    shot(page, "10b-finding-print")
    assert not page.locator(".review-buttons").is_visible()
    page.emulate_media(media="screen")
    page.keyboard.press("j")  # next finding by keyboard
    page.wait_for_load_state()
    rctx.close()

    # 6. the auditor moves one seat corner in the seat-map editor and saves
    actx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    awatch = Watch(actx, base)
    page = login(actx, base, "auditor1")
    page.goto(f"{base}/exam-points/EP-WZ-02/seats/C1")
    page.wait_for_selector("#seat-editor svg polygon.seat-poly")
    page.locator("#seat-list button[data-index='0']").click()
    corner = page.locator("circle.corner[data-what=seat][data-corner='0']")
    box = corner.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 15, box["y"] - 10, steps=5)
    page.mouse.up()
    shot(page, "11-seat-editor")
    page.click("#save-seats")
    page.wait_for_selector("#editor-status.ok")
    assert page.locator("#rerun-offer").is_visible()
    moved = page.evaluate("fetch(location.href).then(r => r.text()).then(t => JSON.parse("
                          "new DOMParser().parseFromString(t, 'text/html').getElementById('seatmap-data').textContent)"
                          ".seats[0].polygon[0])")
    assert moved != [231.9, 38.3], moved  # the moved corner was saved
    # re-run: only the edited camera is analysed again, the other two are reused
    page.click("#rerun")
    page.wait_for_url(re.compile(r".*/upload\?exam_point=EP-WZ-02&job=\d+$"))
    page.wait_for_selector("[data-testid=job-progress][data-state=done]", timeout=600_000)
    assert "analysed 1, reused 2" in page.inner_text("[data-testid=job-progress]")
    page.goto(f"{base}/admin/jobs")
    shot(page, "12-jobs")

    # 7. the dashboard reflects the review (审核中) and the audit
    page.goto(f"{base}/")
    row = page.locator("tr[data-exam-point=EP-WZ-02]").inner_text()
    assert "审核中" in row and "#2 已完成" in row, row
    shot(page, "13-dashboard-after")
    page.goto(f"{base}/?lang=en")
    shot(page, "14-dashboard-en")
    page.goto(f"{base}/upload?exam_point=EP-WZ-02&lang=zh")
    shot(page, "15-upload")
    actx.close()

    # 8. a viewer: no review buttons, and the server refuses a review posted anyway
    vctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    vwatch = Watch(vctx, base)
    page = login(vctx, base, "viewer1")
    fid = _finding_id(page, base, "absent_candidate")
    page.goto(f"{base}/findings/{fid}")
    assert page.locator("button[value=confirmed]").count() == 0
    shot(page, "16-finding-viewer")
    csrf = page.evaluate("document.body.dataset.csrf")
    r = page.request.post(f"{base}/api/v1/findings/{fid}/review", data={"decision": "confirmed", "comment": ""},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 403
    vctx.close()

    # 9. admin pages
    xctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    xwatch = Watch(xctx, base)
    page = login(xctx, base, "admin1")
    page.goto(f"{base}/admin/users")
    shot(page, "17-users")
    xctx.close()

    for w in (watch, rwatch, awatch, vwatch, xwatch):
        assert not w.errors, w.errors
        assert not w.foreign, w.foreign


def _finding_id(page, base: str, kind: str, camera: str | None = None) -> str:
    found = page.request.get(f"{base}/api/v1/exam-points/EP-WZ-02/findings").json()
    return next(f["id"] for f in found if f["kind"] == kind and camera in (None, f["camera"]))
