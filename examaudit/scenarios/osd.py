"""The burned-in on-screen display (OSD) of an NVR: a wall clock top-left, a camera name bottom-right.

Real recorders stamp the clock into the picture before encoding, so an auditor reads the
time from the pixels, not from the container. The synthetic clips do the same: the clock
text is rendered once per displayed second and cached as a small bitmap with a mask, then
pasted onto every frame of that second.

Example:
    >>> from datetime import datetime
    >>> style = ClockStyle(date_sep="-", weekday=True, hour12=False)
    >>> format_clock(datetime(2024, 6, 20, 9, 15, 32), style)
    '2024-06-20 星期四 09:15:32'
    >>> format_clock(datetime(2024, 6, 20, 14, 5, 0), ClockStyle(date_sep="年月日", weekday=False, hour12=True))
    '2024年06月20日 下午 02:05:00'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import cv2
import numpy as np

from ..fonts import render_text_mask

WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

#: Date separators seen on Hikvision / Dahua / Uniview recorders in the field.
DATE_SEPARATORS = ("-", "/", "年月日")


@dataclass(frozen=True)
class ClockStyle:
    """How a recorder prints its clock.

    Attributes:
        date_sep: ``"-"``, ``"/"`` or ``"年月日"`` (``2024年06月20日``).
        weekday: print ``星期四`` after the date.
        hour12: 12-hour clock with ``上午`` / ``下午`` before the time.
    """

    date_sep: str = "-"
    weekday: bool = True
    hour12: bool = False

    def as_dict(self) -> dict:
        return {"date_sep": self.date_sep, "weekday": self.weekday, "hour12": self.hour12}


def format_clock(t: datetime, style: ClockStyle) -> str:
    """The clock text for wall time ``t`` (naive or aware; printed as its own local time)."""
    if style.date_sep == "年月日":
        date = f"{t.year:04d}年{t.month:02d}月{t.day:02d}日"
    else:
        s = style.date_sep
        date = f"{t.year:04d}{s}{t.month:02d}{s}{t.day:02d}"
    parts = [date]
    if style.weekday:
        parts.append(WEEKDAYS_ZH[t.weekday()])
    if style.hour12:
        h = t.hour % 12 or 12
        parts.append("上午" if t.hour < 12 else "下午")
        parts.append(f"{h:02d}:{t.minute:02d}:{t.second:02d}")
    else:
        parts.append(f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}")
    return " ".join(parts)


@dataclass(frozen=True)
class TextStamp:
    """A rendered text bitmap: BGR pixels and a 0/1 mask, ready to paste."""

    pixels: np.ndarray
    mask: np.ndarray  # uint8 0/1 (h, w)


def render_text(text: str, size_px: int, *, outline_px: int = 1) -> TextStamp:
    """White text with a dark outline, as NVRs draw it so it reads on any background.

    Glyphs come from the CJK font file (:func:`examaudit.fonts.render_text_mask`), so the
    clock a clip carries does not depend on the OpenCV release that generated it.
    """
    pad = outline_px + 2
    ink = render_text_mask(text, size_px, pad_px=pad) > 96
    halo = cv2.dilate(ink.astype(np.uint8), np.ones((2 * outline_px + 1, 2 * outline_px + 1), np.uint8)) > 0
    h, w = ink.shape
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[halo] = (24, 24, 24)
    pixels[ink] = (245, 245, 245)
    return TextStamp(pixels=pixels, mask=halo.astype(np.uint8))


def paste(frame: np.ndarray, stamp: TextStamp, x: int, y: int) -> None:
    """Paste ``stamp`` with its top-left at (x, y), clipped to the frame. Modifies ``frame``."""
    h, w = stamp.mask.shape[:2]
    H, W = frame.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    sx, sy = x0 - x, y0 - y
    cv2.copyTo(stamp.pixels[sy:sy + y1 - y0, sx:sx + x1 - x0], stamp.mask[sy:sy + y1 - y0, sx:sx + x1 - x0],
               frame[y0:y1, x0:x1])


class Osd:
    """Draws the clock (top-left band) and camera label (bottom-right) onto frames.

    Parameters:
        width, height: frame size; text size follows the height like a real NVR's OSD.
        style: the clock format.
        camera_label: e.g. ``"第一考场 C1"``; empty for none.

    Example:
        >>> osd = Osd(640, 360, ClockStyle(), "第一考场 C1")
        >>> frame = np.zeros((360, 640, 3), np.uint8)
        >>> osd.draw(frame, datetime(2024, 6, 20, 9, 0, 0)); int(frame[:40].max())
        245
    """

    def __init__(self, width: int, height: int, style: ClockStyle, camera_label: str = ""):
        self.width, self.height, self.style = width, height, style
        self.size_px = max(8, round(height * 0.045))
        self.margin = max(2, round(height * 0.02))
        self._label = render_text(camera_label, self.size_px) if camera_label else None
        self._cached_text: str | None = None
        self._cached_stamp: TextStamp | None = None

    def clock_band(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the region where the clock is drawn, for tests and OCR crops."""
        stamp = self._cached_stamp or render_text(format_clock(datetime(2024, 6, 20, 9, 0, 0), self.style), self.size_px)
        h, w = stamp.mask.shape[:2]
        return self.margin, self.margin, self.margin + w, self.margin + h

    def draw(self, frame: np.ndarray, wall: datetime | None) -> None:
        """Stamp the clock for ``wall`` (None: no clock) and the camera label. Modifies ``frame``."""
        if wall is not None:
            text = format_clock(wall, self.style)
            if text != self._cached_text:  # a new second: render once, reuse for its frames
                self._cached_text, self._cached_stamp = text, render_text(text, self.size_px)
            paste(frame, self._cached_stamp, self.margin, self.margin)
        if self._label is not None:
            h, w = self._label.mask.shape[:2]
            paste(frame, self._label, self.width - w - self.margin, self.height - h - self.margin)
