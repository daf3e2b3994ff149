"""On-screen clock parsing and reading, and session coverage."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from examaudit.config import Session
from examaudit.findings import FindingKind
from examaudit.video.coverage import coverage_drafts, session_coverage
from examaudit.video.osd import OsdClockCheck, _same_clock, parse_clock
from examaudit.video.sampler import Sample


@pytest.mark.parametrize(
    "text, want",
    [
        ("2024-06-20 星期四 14:05:07", datetime(2024, 6, 20, 14, 5, 7)),
        ("2024/06/20星期四下午02:05:07", datetime(2024, 6, 20, 14, 5, 7)),
        ("2024年06月20日 上午 09:15:00", datetime(2024, 6, 20, 9, 15)),
        ("2024年06月20日 上午 12:15:00", datetime(2024, 6, 20, 0, 15)),
        ("2024-06-21星期五14:0205 考场", datetime(2024, 6, 21, 14, 2, 5)),
        ("2024-06-21星期五140205 考场", datetime(2024, 6, 21, 14, 2, 5)),
        ("2024-06-21星期五14:04:3017", datetime(2024, 6, 21, 14, 4, 30)),
        ("2024-06-21星期五1402051", None),
        ("06/20/2024 PM 02:05:07", None),
        ("2024-06-20 14:5", None),
        ("2024-06-20 25:05:07", None),
        # A weekday misread as digits glued to the day: day 20, 2 or 207? Rejected, not guessed.
        ("2024-06-2077709:13:00", None),
        ("2024-13-20 09:00:00", None),
        ("2024-06-20 0 09:00:00", datetime(2024, 6, 20, 9, 0, 0)),
    ],
)
def test_parse_clock_formats(text, want):
    assert parse_clock(text) == want


def test_lost_pm_marker_resolved_by_the_timeline():
    near = datetime(2024, 6, 20, 14, 5, 0)
    assert parse_clock("2024/06/20星期四午02:05:07", near=near) == datetime(2024, 6, 20, 14, 5, 7)


def _frames(times, clock_at, size=(180, 320)):
    from examaudit.scenarios.osd import ClockStyle, Osd

    h, w = size
    osd = Osd(w, h, ClockStyle(), "C1")
    rng = np.random.default_rng(0)
    for t in times:
        f = np.full((h, w, 3), 130, np.uint8) + rng.integers(0, 6, (h, w, 3), dtype=np.uint8)
        osd.draw(f, clock_at(t))
        yield t, f


def _run(times, clock_at):
    chk = OsdClockCheck(read_every_s=30.0)
    rows = []
    for i, (t, f) in enumerate(_frames(times, clock_at)):
        row = {"t_s": t}
        chk.observe(Sample(i, t, i, True, f), row)
        rows.append(row)
    return chk, rows, chk.finish(rows)


def test_clock_jump_is_bisected_to_neighbouring_samples():
    w0 = datetime(2024, 6, 20, 9, 0, 0)
    times = [5.0 * i for i in range(40)]
    chk, rows, drafts = _run(times, lambda t: w0 + timedelta(seconds=t + (600 if t >= 101 else 0)))
    jumps = [d for d in drafts if d.kind == FindingKind.timestamp_jump]
    assert len(jumps) == 1 and (jumps[0].start_s, jumps[0].end_s) == (100.0, 105.0)
    assert jumps[0].evidence_images and "600" in jumps[0].reason_en
    assert chk.wall0_ == w0
    assert chk.ocr.calls < 15  # sparse reads plus bisection, not one per sample


def test_recogniser_not_held_while_sampling_and_sparse_readings_land_in_rows():
    # The person detector runs during sampling; the OCR engine (~90 MB) must not sit beside it.
    w0 = datetime(2024, 6, 20, 9, 0, 0)
    chk = OsdClockCheck(read_every_s=30.0)
    rows = []
    for i, (t, f) in enumerate(_frames([5.0 * i for i in range(20)], lambda t: w0 + timedelta(seconds=t))):
        row = {"t_s": t}
        chk.observe(Sample(i, t, i, True, f), row)
        rows.append(row)
        assert chk.box_ is not None and chk.ocr._engine is None
    chk.finish(rows)
    read = [r["t_s"] for r in rows if r.get("osd_text")]
    assert read[:4] == [0.0, 30.0, 60.0, 90.0] and chk.ocr._engine is None


def test_frozen_clock_found_without_ocr():
    w0 = datetime(2024, 6, 20, 9, 0, 0)
    times = [5.0 * i for i in range(24)]
    chk, rows, drafts = _run(times, lambda t: w0 + timedelta(seconds=50 if 50 <= t < 90 else t))
    frozen = [d for d in drafts if d.kind == FindingKind.timestamp_frozen]
    assert len(frozen) == 1 and frozen[0].start_s == 50.0 and frozen[0].end_s == 85.0
    assert not [d for d in drafts if d.kind in (FindingKind.timestamp_jump, FindingKind.timestamp_backwards)]


def test_clock_stopping_between_samples_is_a_freeze_not_a_jump():
    # The clock stops at 52 s; the sample at 55 s already shows 52 s, 3 s behind: that lag is
    # the stop itself (reported as timestamp_frozen), not a jump backwards or forwards.
    w0 = datetime(2024, 6, 20, 9, 0, 0)
    times = [5.0 * i for i in range(24)]
    chk, rows, drafts = _run(times, lambda t: w0 + timedelta(seconds=52 if 52 <= t < 90 else t))
    kinds = sorted(d.kind.value for d in drafts)
    assert kinds == ["timestamp_frozen"], [(d.kind.value, d.start_s, d.end_s) for d in drafts]


def test_clock_box_is_the_shortest_line_that_reads(monkeypatch):
    # A box that merges the clock with a slogan under it reads once, then misreads; the clock
    # line alone is the one to crop.
    from examaudit.video import osd

    merged, clock = (3, 4, 319, 58), (7, 6, 297, 36)
    monkeypatch.setattr(osd, "text_lines", lambda gray: [merged, clock])

    class Reader:
        def read(self, crop):
            return "2024/06/21 星期五 下午 02:30:09"

    box = osd.locate_clock(np.zeros((360, 640, 3), np.uint8), Reader())
    assert box[1] == clock[1] and box[3] == clock[3]


def test_running_clock_crops_differ():
    a, b = [f[:40, :200, 0] for _, f in _frames([0.0, 5.0], lambda t: datetime(2024, 1, 1) + timedelta(seconds=t))]
    assert not _same_clock(a, b) and _same_clock(a, a.copy())


def test_coverage_splits_usable_untrusted_and_missing():
    s = Session(id="S1", start=datetime(2024, 6, 20, 9, 0), end=datetime(2024, 6, 20, 10, 0))
    wall0 = datetime(2024, 6, 20, 9, 5)  # recording starts 5 minutes late
    rows = [{"t_s": float(t), "trusted": not (600 <= t < 900), "quality": "camera_covered" if 600 <= t < 900 else "ok"}
            for t in range(0, 3300, 5)]
    cov = session_coverage([s], wall0, rows, 5.0)[0]
    assert cov.missing == [(0.0, 300.0)]
    assert cov.untrusted == [(900.0, 1200.0, "camera_covered")]
    assert cov.usable_s == pytest.approx(3300 - 300)
    gaps = coverage_drafts([cov], wall0)
    assert len(gaps) == 1 and gaps[0].kind == FindingKind.footage_gap and "5.0 minutes" in gaps[0].reason_en
