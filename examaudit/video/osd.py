"""The burned-in on-screen clock (OSD): find it, read it sparingly, check it against the timeline.

NVRs stamp the wall clock into the picture. Read against the footage's own timestamps (PTS)
it exposes edits the container hides: the clock jumps (a cut), goes backwards (a re-used
stretch), stops while PTS runs on (a hung or replaced feed), or drifts. It also says when
the footage started, when the exam-point config does not.

Cost is kept down in three ways. The clock is located once (bright outlined text lines in
the top and bottom bands, the first that reads as a date and time). After that only a tight crop of the clock line is kept per
sample (PNG, a few KB) and only every ``read_every_s`` seconds is one crop recognised (text
recognition only, ~30 ms). The readings wait for ``finish``, after the person detector has been
freed, so the recogniser and the detector are never in memory together. Where the offset OSD − PTS changes between two readings, the
crops in between are bisected, so a jump is placed to one sampling interval with a handful
of extra readings. A stopped clock needs no OCR at all: its crops are pixel-identical.

Example:
    >>> parse_clock("2024年06月20日 下午 02:05:07")
    datetime.datetime(2024, 6, 20, 14, 5, 7)
    >>> parse_clock("2024/06/20 星期四 14:05:07")
    datetime.datetime(2024, 6, 20, 14, 5, 7)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from ..findings import FindingKind, Severity
from .evidence import EvidenceImage, encode_jpeg
from .sampler import Sample

#: The day must end the digit run: in "2024-06-2077709:13:00" (a weekday misread as digits) the
#: day could be 20, 2 or 207; a reading that cannot be told apart is rejected, not guessed.
_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
#: OCR reads a small colon as ".", ";", "," or "-" as often as ":" (a 10 px clock at 180p, a
#: thin monospaced font); the time comes after the date, so those cannot be the date's.
_TIME = re.compile(r"(\d{1,2})\s*([:：.;,\-])\s*(\d{2})\s*([:：.;,\-])\s*(\d{2})")
#: OCR often drops colons ("14:0205", "145205"): after the date, six digits standing alone
#: are still the time.
_TIME_LOOSE = re.compile(r"(?<!\d)(\d{2})\s*([:：]?)\s*(\d{2})\s*([:：]?)\s*(\d{2})(?!\d)")
_PM = ("下午", "PM", "pm", "P.M", "晚上")
_AM = ("上午", "AM", "am", "A.M", "凌晨", "早上")
#: The zone NVR clocks in Chinese exam centres are set to, when the config names none.
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def parse_clock(text: str, near: datetime | None = None) -> datetime | None:
    """Parse an NVR clock line (naive local time), or None.

    Handles ``-``, ``/``, ``.`` and 年月日 dates, an optional 星期X, 24-hour times and 12-hour
    times with 上午/下午 or AM/PM. When OCR lost the AM/PM marker of a 12-hour clock, the
    reading closest to ``near`` (the time the timeline predicts) is taken.
    """
    d = _DATE.search(text)
    at = d.end() if d else 0
    tm = _TIME.search(text, at) or _TIME_LOOSE.search(text, at)
    if not d or not tm:
        return None
    try:
        y, mo, dd = (int(v) for v in d.groups())
        hh, mi, ss = (int(tm.group(k)) for k in (1, 3, 5))
        base = datetime(y, mo, dd)
    except ValueError:
        return None
    if mi > 59 or ss > 59 or hh > 23:
        return None
    pm = any(m in text for m in _PM)
    am = any(m in text for m in _AM)
    if pm and hh < 12:
        hh += 12
    elif am and hh == 12:
        hh = 0
    out = base + timedelta(hours=hh, minutes=mi, seconds=ss)
    if near is not None and not (pm or am) and hh < 12 and "午" in text:
        alt = out + timedelta(hours=12)
        if abs((alt - near).total_seconds()) < abs((out - near).total_seconds()):
            out = alt
    return out


#: rapidocr settings for reading one short line at a time.
_ENGINE_PARAMS = {
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}


class ClockOCR:
    """RapidOCR text recognition (no detection), created lazily so checks stay picklable."""

    def __init__(self) -> None:
        self._engine = None
        self.calls = 0

    def engine(self):
        if self._engine is None:
            import logging

            from rapidocr import RapidOCR

            # rapidocr resets its logger to INFO while it loads and announces every model file;
            # silence the load, keep its warnings afterwards.
            log = logging.getLogger("RapidOCR")
            log.disabled = True
            try:
                # One line at a time needs no thread pools: each pool thread costs stack and a malloc arena.
                self._engine = RapidOCR(params=_ENGINE_PARAMS)
            finally:
                log.disabled = False
                log.setLevel(logging.WARNING)
        return self._engine

    def release(self) -> None:
        """Drop the recogniser (about 100 MB of native memory); the next read loads it again."""
        self._engine = None

    def read(self, crop: np.ndarray) -> str:
        """Recognise one text line (no detection)."""
        self.calls += 1
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        # The recogniser works at 48 px line height; scaling here, with a good filter, reads
        # digits far better than its own resize ("3" came out as "5" at 54 px). When that
        # does not parse, the levels are stretched to keep only the bright OSD strokes.
        k = 48.0 / gray.shape[0]
        gray = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
        text = self._rec(gray)
        if parse_clock(text) is None:
            self.calls += 1
            stretched = self._rec(np.clip((gray.astype(np.int16) - 150) * 3, 0, 255).astype(np.uint8))
            if parse_clock(stretched) is not None:
                return stretched
        return text

    def _rec(self, gray: np.ndarray) -> str:
        r = self.engine()(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), use_det=False, use_cls=False, use_rec=True)
        return "".join(getattr(r, "txts", None) or ())

    def __getstate__(self):
        return {"_engine": None, "calls": self.calls}


def text_lines(gray: np.ndarray, band: float = 0.18) -> list[tuple[int, int, int, int]]:
    """Candidate OSD text lines in the top and bottom bands, widest first.

    OSD text is drawn bright, in thin strokes, usually with a dark outline: pixels that stand
    out above their smoothed surroundings (a white top-hat) or that are bright next to dark
    ones, merged along the line, give the boxes. No text detector is needed (it would cost
    half a gigabyte of memory for one picture).
    """
    h, w = gray.shape[:2]
    bh = max(16, int(h * band))
    out = []
    for y_off in (0, h - bh):
        region = gray[y_off:y_off + bh]
        k = max(3, int(round(h * 0.012)))
        # Thin bright strokes on anything smoother: a white top-hat keeps them and drops the
        # wall behind, whatever its brightness and however thin the dark outline was drawn.
        hat = cv2.morphologyEx(region, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (3 * k, 3 * k)))
        dark = cv2.dilate((region < 70).astype(np.uint8), np.ones((3, 3), np.uint8))
        for ink in (((region > 200) & (dark > 0)), ((hat > 35) & (region > 150))):
            merged = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE,
                                      cv2.getStructuringElement(cv2.MORPH_RECT, (4 * k, k)))
            n, _, stats, _ = cv2.connectedComponentsWithStats(merged)
            for x, y, bw, bh2, area in stats[1:]:
                if bw >= 6 * bh2 and bh2 >= 6 and bw >= 0.12 * w:
                    pad = max(2, bh2 // 4)
                    box = (int(max(0, x - pad)), int(max(0, y + y_off - pad)), int(min(w, x + bw + pad + bh2)),
                           int(min(h, y + y_off + bh2 + pad)))
                    if box not in out:
                        out.append(box)
    out.extend(b for b in _joined_on_line(out) if b not in out)
    out.sort(key=lambda b: -(b[2] - b[0]))
    return out


def _joined_on_line(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Boxes of one text line split by a wide gap, joined again.

    A monospaced clock, or one whose weekday is drawn as hollow missing-glyph boxes (a Latin
    font asked for 星期五), falls apart into a date box and a time box; neither parses alone.
    Boxes that share most of their height and stand less than four line heights apart are
    joined, left to right.
    """
    joined = []
    for a in boxes:
        cur = a
        for b in sorted(boxes, key=lambda b: b[0]):
            if b[0] <= cur[2]:
                continue
            overlap = min(cur[3], b[3]) - max(cur[1], b[1])
            height = max(cur[3] - cur[1], b[3] - b[1])
            if overlap >= 0.5 * height and b[0] - cur[2] <= 4 * height:
                cur = (min(cur[0], b[0]), min(cur[1], b[1]), max(cur[2], b[2]), max(cur[3], b[3]))
        if cur != a and cur not in joined:
            joined.append(cur)
    return joined


def locate_clock(image: np.ndarray, ocr: ClockOCR) -> tuple[int, int, int, int] | None:
    """The (x0, y0, x1, y1) box of the clock line: of the text lines that read as a clock, the
    least tall.

    A candidate box can merge the clock with text next to it (a blackboard slogan under the
    clock); it may still parse once, but later crops of it misread (下午 as 下年, colons lost)
    and fake clock jumps. The clock alone is one line, so the shortest box that reads wins.
    """
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    found = []
    for box in text_lines(gray)[:4]:
        x0, y0, x1, y1 = box
        if parse_clock(ocr.read(image[y0:y1, x0:x1])) is not None:
            found.append(box)
    if not found:
        return None
    x0, y0, x1, y1 = min(found, key=lambda b: (b[3] - b[1], -(b[2] - b[0])))
    # Room to the right: "上午" and "下午", or a weekday, can change the line's width.
    return int(x0), int(y0), int(min(image.shape[1], x1 + int(0.1 * (x1 - x0)))), int(y1)


@dataclass
class ClockReading:
    index: int
    t_s: float
    text: str
    clock: datetime | None


@dataclass
class OsdClockCheck:
    """Reads the on-screen clock as a streaming :class:`~examaudit.video.analyze.SampleCheck`.

    Adds ``osd_text`` and ``osd_offset_s`` (clock minus footage time, relative to the first
    reading) to the rows where the clock was read.

    Parameters:
        read_every_s: read one crop per this many seconds of footage, and the last one
            (bisection adds more; each reading costs ~0.1 s at 1080p).
        jump_tol_s: offset changes beyond this are jumps (OSD seconds are whole seconds).
        drift_min_s: a steady offset change this large over the recording is drift.

    Attributes:
        readings_: every OCR reading made.
        wall0_: the wall-clock time of footage second 0 (naive local time), if read.
        box_: where the clock is in the analysed pictures.
    """

    read_every_s: float = 120.0
    jump_tol_s: float = 2.5
    drift_min_s: float = 6.0
    name: str = "osd"
    ocr: ClockOCR = field(default_factory=ClockOCR)

    def __post_init__(self) -> None:
        self.box_: tuple[int, int, int, int] | None = None
        self._tries = 0
        self._crops: list[bytes | None] = []
        self._t: list[float] = []
        self._same: list[bool] = []
        self._prev: np.ndarray | None = None
        self._next_read = 0.0
        self._due: list[int] = []  # samples whose crop the sparse pass reads
        self.readings_: list[ClockReading] = []
        self.wall0_: datetime | None = None

    # -- streaming ---------------------------------------------------------------------------

    def observe(self, sample: Sample, row: dict[str, Any]) -> None:
        self._t.append(sample.t_s)
        if self.box_ is None and self._tries < 3 and (sample.index == 0 or sample.index % 12 == 0):
            self._tries += 1
            self.box_ = locate_clock(sample.image, self.ocr)
            if self.box_ is not None or self._tries == 3:
                # The person detector is loaded for the rest of sampling; the recogniser (~90 MB)
                # need not sit beside it, since every reading waits for ``finish``.
                self.ocr.release()
        if self.box_ is None:
            self._crops.append(None)
            self._same.append(False)
            return
        x0, y0, x1, y1 = self.box_
        crop = cv2.cvtColor(sample.image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        same = self._prev is not None and self._prev.shape == crop.shape and _same_clock(self._prev, crop)
        self._prev = crop
        self._same.append(same)
        self._crops.append(cv2.imencode(".png", crop)[1].tobytes())
        if sample.t_s >= self._next_read:
            self._due.append(len(self._crops) - 1)
            self._next_read = sample.t_s + self.read_every_s

    def _crop(self, i: int) -> np.ndarray | None:
        data = self._crops[i]
        return None if data is None else cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)

    def _read(self, i: int, row: dict[str, Any] | None = None) -> ClockReading:
        for r in self.readings_:
            if r.index == i:
                return r
        crop = self._crop(i)
        text = self.ocr.read(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)) if crop is not None else ""
        near = None
        good = [r for r in self.readings_ if r.clock is not None]
        if good:
            near = good[-1].clock + timedelta(seconds=self._t[i] - good[-1].t_s)
        reading = ClockReading(i, self._t[i], text, parse_clock(text, near))
        self.readings_.append(reading)
        if row is not None:
            row["osd_text"] = text
        return reading

    # -- deciding ----------------------------------------------------------------------------

    def finish(self, rows: list[dict[str, Any]]) -> list:
        try:
            return self._decide(rows)
        finally:
            # The last reading is done: free the recogniser before the checks after this one run.
            self.ocr.release()

    def _decide(self, rows: list[dict[str, Any]]) -> list:
        n = len(self._t)
        drafts: list = []
        if self.box_ is None or n == 0:
            return drafts
        for i in self._due:
            self._read(i, rows[i] if i < len(rows) else None)
        last = max((i for i, c in enumerate(self._crops) if c is not None), default=None)
        if last is not None:
            self._read(last)  # the last picture is always read, so a short clip has two readings
        frozen = self._frozen_runs()
        in_frozen = np.zeros(n, bool)
        for a, b in frozen:
            in_frozen[a + 1:b + 1] = True
            drafts.append(self._frozen_draft(a, b))
        frozen_starts = {a for a, _ in frozen}
        reads = sorted((r for r in self.readings_ if r.clock is not None and not in_frozen[r.index]), key=lambda r: r.index)
        breaks: list[tuple[ClockReading, ClockReading]] = []
        k = 0
        while k + 1 < len(reads):
            a, b = reads[k], reads[k + 1]
            if abs(_offset(b) - _offset(a)) > self.jump_tol_s:
                a, b = self._bisect(a, b, in_frozen)
                if self._confirmed(a, b, in_frozen) and not self._stopped_between(a, b, frozen_starts):
                    breaks.append((a, b))
            k += 1
        for a, b in breaks:
            drafts.append(self._jump_draft(a, b))
        reads = sorted((r for r in self.readings_ if r.clock is not None and not in_frozen[r.index]), key=lambda r: r.index)
        if reads:
            first_break = breaks[0][1].index if breaks else n
            seg = [r for r in reads if r.index < first_break] or reads
            offs = np.array([_offset(r) for r in seg])
            med = float(np.median(offs))
            offs = offs[np.abs(offs - med) <= self.jump_tol_s]  # misread digits left out
            # The OSD prints whole seconds (floor), so the true offset is the top of the readings.
            base = seg[0].clock - timedelta(seconds=seg[0].t_s)
            self.wall0_ = base + timedelta(seconds=float(np.quantile(offs - _offset(seg[0]), 0.9)))
            drafts.extend(self._drift_drafts(reads, breaks))
        for r in self.readings_:
            if r.clock is not None and r.index < len(rows):
                rows[r.index]["osd_text"] = r.text
                rows[r.index]["osd_offset_s"] = round(_offset(r) - (_offset(reads[0]) if reads else 0.0), 2)
        return drafts

    def _frozen_runs(self, min_same: int = 2) -> list[tuple[int, int]]:
        runs, i, n = [], 1, len(self._same)
        while i < n:
            if self._same[i]:
                j = i
                while j + 1 < n and self._same[j + 1]:
                    j += 1
                if j - i + 1 >= min_same:
                    runs.append((i - 1, j))
                i = j + 1
            else:
                i += 1
        return runs

    def _neighbour(self, i: int, step: int, in_frozen: np.ndarray) -> ClockReading | None:
        for m in range(i + step, i + 7 * step, step):
            if 0 <= m < len(self._t) and not in_frozen[m] and self._crops[m] is not None:
                r = self._read(m)
                if r.clock is not None:
                    return r
        return None

    def _stopped_between(self, a: ClockReading, b: ClockReading, frozen_starts: set[int]) -> bool:
        """Whether the clock merely stopped between ``a`` and ``b``: ``b`` is the first picture of
        a stopped clock, and the clock fell behind by no more than the time between the two.
        The stop is already a ``timestamp_frozen`` finding; it is not a jump as well."""
        lag = _offset(a) - _offset(b)
        return b.index in frozen_starts and 0 < lag <= (b.t_s - a.t_s) + self.jump_tol_s

    def _confirmed(self, a: ClockReading, b: ClockReading, in_frozen: np.ndarray) -> bool:
        """A break must hold on both sides: one misread digit looks like a jump and back."""
        tol = self.jump_tol_s
        after = self._neighbour(b.index, 1, in_frozen)
        if after is not None and abs(_offset(after) - _offset(b)) > tol:
            return False
        before = self._neighbour(a.index, -1, in_frozen)
        if before is not None and abs(_offset(before) - _offset(a)) > tol:
            return False
        return True

    def _bisect(self, a: ClockReading, b: ClockReading, in_frozen: np.ndarray) -> tuple[ClockReading, ClockReading]:
        """Narrow a change of offset down to two neighbouring samples, reading crops in between."""
        while b.index - a.index > 1:
            mid = (a.index + b.index) // 2
            # A reading OCR cannot parse is skipped for its neighbour, not taken as the end.
            # Misread crops come in runs (a font whose colons read as "-" for a minute), so the
            # search walks outwards from the middle through every sample in between, within a
            # budget, rather than giving up and leaving the jump as wide as the sparse readings.
            r = None
            tried = 0
            for m in sorted(range(a.index + 1, b.index), key=lambda m: (abs(m - mid), m)):
                if in_frozen[m] or self._crops[m] is None:
                    continue
                r = self._read(m)
                tried += 1
                if r.clock is not None:
                    break
                r = None
                if tried >= 12:
                    break
            if r is None:
                break
            if abs(_offset(r) - _offset(a)) > self.jump_tol_s:
                b = r
            else:
                a = r
        return a, b

    def _evidence(self, r: ClockReading, caption: str) -> EvidenceImage:
        crop = self._crop(r.index)
        big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) if crop.shape[0] < 60 else crop
        return EvidenceImage(f"osd_{r.t_s:09.2f}.jpg", encode_jpeg(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)), r.t_s,
                             f"{caption}: OCR「{r.text}」 t={r.t_s:.1f}s")

    def _jump_draft(self, a: ClockReading, b: ClockReading):
        from .analyze import Draft

        elapsed = b.t_s - a.t_s
        shown = (b.clock - a.clock).total_seconds()
        step = shown - elapsed
        ev = [self._evidence(a, "跳变前 / before"), self._evidence(b, "跳变后 / after")]
        details = {"clock_before": a.clock.isoformat(), "clock_after": b.clock.isoformat(),
                   "footage_elapsed_s": round(elapsed, 3), "clock_elapsed_s": round(shown, 3),
                   "step_s": round(step, 1), "ocr": [a.text, b.text]}
        if shown < 0:
            return Draft(FindingKind.timestamp_backwards, Severity.high, a.t_s, b.t_s, 0.9,
                         f"画面时钟在 {a.t_s:.0f}–{b.t_s:.0f} 秒之间从 {a.clock:%H:%M:%S} 倒退到 {b.clock:%H:%M:%S}（倒退 {-shown:.0f} 秒），录像可能被重新拼接。",
                         f"Between {a.t_s:.0f} s and {b.t_s:.0f} s the on-screen clock goes back from {a.clock:%H:%M:%S} to {b.clock:%H:%M:%S} ({-shown:.0f} s back), a sign the footage was re-assembled.",
                         details, evidence_images=ev)
        return Draft(FindingKind.timestamp_jump, Severity.high, a.t_s, b.t_s, 0.9,
                     f"画面时钟在 {a.t_s:.0f}–{b.t_s:.0f} 秒之间从 {a.clock:%H:%M:%S} 跳到 {b.clock:%H:%M:%S}，录像只过了 {elapsed:.0f} 秒，时钟却{'前进' if step > 0 else '少走'}了 {abs(step):.0f} 秒。",
                     f"Between {a.t_s:.0f} s and {b.t_s:.0f} s the on-screen clock jumps from {a.clock:%H:%M:%S} to {b.clock:%H:%M:%S}: {elapsed:.0f} s of footage but the clock moved {abs(step):.0f} s {'too far' if step > 0 else 'too little'}.",
                     details, evidence_images=ev)

    def _frozen_draft(self, a: int, b: int):
        from .analyze import Draft

        ta, tb = self._t[a], self._t[b]
        r = self._read(a)
        ev = [self._evidence(r, "时钟停走 / clock stopped")]
        when = f"{r.clock:%H:%M:%S}" if r.clock else r.text or "?"
        return Draft(FindingKind.timestamp_frozen, Severity.high, ta, tb, 0.9,
                     f"{ta:.0f}–{tb:.0f} 秒（{tb - ta:.0f} 秒）画面时钟停在 {when} 不走，而录像时间戳仍在前进。",
                     f"From {ta:.0f} s to {tb:.0f} s ({tb - ta:.0f} s) the on-screen clock stays at {when} while the footage timestamps advance.",
                     {"samples": b - a + 1, "ocr": r.text}, evidence_images=ev)

    def _drift_drafts(self, reads: list[ClockReading], breaks) -> list:
        from .analyze import Draft

        cuts = [0] + [b.index for _, b in breaks] + [10 ** 12]
        out = []
        for lo, hi in zip(cuts, cuts[1:]):
            seg = [r for r in reads if lo <= r.index < hi]
            if len(seg) < 5:
                continue
            t = np.array([r.t_s for r in seg])
            off = np.array([_offset(r) for r in seg])
            slope, icpt = np.polyfit(t, off, 1)
            change = slope * (t[-1] - t[0])
            resid = off - (slope * t + icpt)
            if abs(change) >= self.drift_min_s and float(np.abs(resid).max()) < 1.5:
                per_h = slope * 3600
                out.append(Draft(FindingKind.timestamp_drift, Severity.low, float(t[0]), float(t[-1]), 0.8,
                                 f"画面时钟相对录像时间戳每小时漂移 {per_h:+.1f} 秒，{t[0]:.0f}–{t[-1]:.0f} 秒间累计 {change:+.1f} 秒。",
                                 f"The on-screen clock drifts {per_h:+.1f} s per hour against the footage timestamps, {change:+.1f} s in total from {t[0]:.0f} s to {t[-1]:.0f} s.",
                                 {"drift_s_per_hour": round(per_h, 2), "total_s": round(change, 2), "readings": len(seg)}))
        return out


def _offset(r: ClockReading) -> float:
    """Clock minus footage time, in seconds since 2000-01-01 (only differences matter)."""
    return (r.clock - datetime(2000, 1, 1)).total_seconds() - r.t_s


def _same_clock(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two clock crops show the same reading: the text pixels did not change.

    The seconds digits change between any two samples a second or more apart, so a clock
    that is running never passes; the scene behind the text is ignored (only bright text
    pixels count).
    """
    k = max(3, a.shape[0] // 2) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    # Strokes, not brightness: on a bright wall or a washed-out picture "bright" is everywhere.
    text = (cv2.morphologyEx(a, cv2.MORPH_TOPHAT, kernel) > 35) | (cv2.morphologyEx(b, cv2.MORPH_TOPHAT, kernel) > 35)
    if text.sum() < 20:
        return False
    changed = np.abs(a.astype(np.int16) - b.astype(np.int16)) > 60
    # One changed digit is a few percent of the strokes; a stopped clock changes none (its
    # crops decode to the same pixels), so the bar is set near zero.
    return int((changed & text).sum()) <= max(3, int(0.002 * text.sum()))


def wall_start_from_checks(checks: list, tz: tzinfo | None) -> datetime | None:
    """The wall clock of footage second 0 as the OSD reads it, made time-zone aware."""
    for c in checks:
        w = getattr(c, "wall0_", None)
        if w is not None:
            return w if w.tzinfo is not None else w.replace(tzinfo=tz or DEFAULT_TZ)
    return None
