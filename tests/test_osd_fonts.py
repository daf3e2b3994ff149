"""The clock reader against clocks drawn by other renderers, fonts, strokes, sizes and codecs.

Real NVRs draw their clocks in many fonts. These clocks are drawn by Pillow/FreeType (the CJK
font, DejaVu Sans Mono with its missing-glyph boxes for 星期X, DejaVu Serif Bold) and by
OpenCV's Hershey vector fonts (digits only, 1 to 3 px strokes), some JPEG-compressed, at 360p
and 720p. None of them is how the generator draws its clocks. The jump, backwards and frozen
rules must give the same findings on every one, and a clean clock must give none.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from examaudit.findings import FindingKind
from examaudit.fonts import cjk_font_file
from examaudit.scenarios.osd import WEEKDAYS_ZH
from examaudit.video.osd import OsdClockCheck
from examaudit.video.sampler import Sample

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
W0 = datetime(2024, 6, 20, 9, 0, 0)
TIMES = [5.0 * i for i in range(40)]
CLOCK_KINDS = {FindingKind.timestamp_jump, FindingKind.timestamp_backwards, FindingKind.timestamp_frozen}


def _text(t: datetime, weekday: bool) -> str:
    s = f"{t:%Y-%m-%d} "
    return s + (f"{WEEKDAYS_ZH[t.weekday()]} " if weekday else "") + f"{t:%H:%M:%S}"


def _pil(font_path: Path | str, px: int, *, weekday: bool = True, stroke: int = 0):
    font = ImageFont.truetype(str(font_path), px)

    def draw(frame: np.ndarray, t: datetime) -> None:
        img = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        d = ImageDraw.Draw(img)
        # White with a dark outline, as NVRs draw it; ``stroke`` > 0 thickens the white digits.
        d.text((10, 8), _text(t, weekday), font=font, fill=(0, 0, 0), stroke_width=stroke + 2, stroke_fill=(20, 20, 20))
        d.text((10, 8), _text(t, weekday), font=font, fill=(245, 245, 245), stroke_width=stroke,
               stroke_fill=(245, 245, 245))
        frame[...] = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)

    return draw


def _hershey(scale: float, thickness: int, face=cv2.FONT_HERSHEY_SIMPLEX):
    def draw(frame: np.ndarray, t: datetime) -> None:
        org = (10, 10 + int(30 * scale))
        text = _text(t, weekday=False)  # Hershey fonts have no Chinese glyphs
        cv2.putText(frame, text, org, face, scale, (20, 20, 20), thickness + 3, cv2.LINE_AA)
        cv2.putText(frame, text, org, face, scale, (245, 245, 245), thickness, cv2.LINE_AA)

    return draw


def _renderers():
    cjk = cjk_font_file()[0]
    out = [
        ("pil-cjk-22px-360p", _pil(cjk, 22), (360, 640), None),
        ("pil-cjk-thick-720p", _pil(cjk, 30, stroke=1), (720, 1280), None),
        ("pil-cjk-jpeg30-360p", _pil(cjk, 22), (360, 640), 30),
        ("hershey-1px-360p", _hershey(0.7, 1), (360, 640), None),
        ("hershey-2px-720p", _hershey(1.1, 2), (720, 1280), None),
        ("hershey-duplex-3px-jpeg40-720p", _hershey(1.0, 3, cv2.FONT_HERSHEY_DUPLEX), (720, 1280), 40),
    ]
    for name, file, px, size in (("dejavu-sans-mono", "DejaVuSansMono.ttf", 22, (360, 640)),
                                 ("dejavu-serif-bold", "DejaVuSerif-Bold.ttf", 22, (360, 640)),
                                 ("dejavu-sans-thin-720p", "DejaVuSans.ttf", 28, (720, 1280))):
        out.append((name, _pil(DEJAVU / file, px) if (DEJAVU / file).exists() else None, size, None))
    return out


RENDERERS = _renderers()


def _frames(draw, size, jpeg, clock_at):
    h, w = size
    rng = np.random.default_rng(7)
    # A room behind the clock: a gradient wall, a darker band, sensor noise.
    base = np.tile(np.linspace(90, 170, w), (h, 1)).astype(np.uint8)
    base[int(0.3 * h):int(0.4 * h)] -= 40
    base = np.repeat(base[..., None], 3, axis=2)
    for t in TIMES:
        f = base + rng.integers(0, 8, (h, w, 3), dtype=np.uint8)
        draw(f, clock_at(t))
        if jpeg:
            f = cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], cv2.IMREAD_COLOR)
        yield t, f


def _clock_findings(draw, size, jpeg, clock_at):
    chk = OsdClockCheck(read_every_s=30.0)
    rows = []
    for i, (t, f) in enumerate(_frames(draw, size, jpeg, clock_at)):
        row = {"t_s": t}
        chk.observe(Sample(i, t, i, True, f), row)
        rows.append(row)
    drafts = chk.finish(rows)
    return chk, sorted((d.kind, d.start_s, d.end_s) for d in drafts if d.kind in CLOCK_KINDS)


SCENARIOS = {
    "clean": (lambda t: W0 + timedelta(seconds=t), []),
    "jump": (lambda t: W0 + timedelta(seconds=t + (600 if t >= 101 else 0)),
             [(FindingKind.timestamp_jump, 100.0, 105.0)]),
    "backwards": (lambda t: W0 + timedelta(seconds=t - (300 if t >= 101 else 0)),
                  [(FindingKind.timestamp_backwards, 100.0, 105.0)]),
    "frozen": (lambda t: W0 + timedelta(seconds=min(t, 60.0) if t < 120 else t),
               [(FindingKind.timestamp_frozen, 60.0, 115.0)]),
}


#: Every renderer runs clean and jump in the default suite; backwards and frozen run on three
#: unlike renderers by default and on all of them with ``-m slow`` (OCR costs ~1 s a case).
_DEFAULT_ALL = {"clean", "jump"}
_DEFAULT_RENDERERS = {"pil-cjk-jpeg30-360p", "dejavu-sans-mono", "hershey-1px-360p"}
CASES = [
    pytest.param(*r, sc, id=f"{r[0]}-{sc}",
                 marks=() if sc in _DEFAULT_ALL or r[0] in _DEFAULT_RENDERERS else pytest.mark.slow)
    for r in RENDERERS for sc in SCENARIOS
]


@pytest.mark.parametrize("name, draw, size, jpeg, scenario", CASES)
def test_clock_rules_agree_across_renderers(name, draw, size, jpeg, scenario):
    if draw is None:
        pytest.skip(f"{name}: font not installed (fonts-dejavu-core)")
    clock_at, want = SCENARIOS[scenario]
    chk, got = _clock_findings(draw, size, jpeg, clock_at)
    assert chk.box_ is not None, f"{name}: the clock was never located"
    assert got == want, f"{name}/{scenario}: " + "; ".join(f"{r.t_s}:{r.text!r}" for r in chk.readings_)
    # The clock is read, not just located: wall time of footage second 0 within 2 s.
    if scenario == "clean":
        assert chk.wall0_ is not None and abs((chk.wall0_ - W0).total_seconds()) <= 2.0
