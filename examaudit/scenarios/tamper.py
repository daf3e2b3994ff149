"""Planted irregularities: what happens to the picture, the on-screen clock and the timeline.

A :class:`Tamper` is one irregularity over a time span of the *recording* (output seconds).
Three pure questions decide every output frame:

- :func:`picture_source` - which moment of the room the picture shows (frozen, looped);
- :func:`clock_offset` - which wall-clock second the OSD prints (jump, backwards, frozen);
- :func:`in_gap` - whether the frame exists at all (footage gap).

:func:`degrade` then applies what happened to the camera itself (covered, defocused,
moved, black, over-exposed) to a rendered picture.

Example:
    >>> ts = (Tamper("frozen_video", 2.0, 5.0),)
    >>> picture_source(ts, 3.5), clock_offset(ts, 3.5)
    (2.0, 3.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

#: Tampers that change which picture is shown, but not how it looks.
TIMELINE_KINDS = ("frozen_video", "timestamp_frozen", "looped_segment", "footage_gap")
#: Tampers that change only the OSD clock.
CLOCK_KINDS = ("timestamp_jump", "timestamp_backwards", "timestamp_frozen")
#: Tampers that change how the camera sees the room.
PICTURE_KINDS = ("camera_covered", "camera_defocused", "camera_moved", "video_black", "video_overexposed")
#: Pictures in which nobody can be seen.
BLIND_KINDS = ("camera_covered", "video_black", "video_overexposed")


@dataclass(frozen=True)
class Tamper:
    """One planted irregularity.

    Attributes:
        kind: a :class:`examaudit.findings.FindingKind` value, or ``"splice"``.
        start_s, end_s: span in recording seconds (``end_s`` exclusive).
        params: kind-specific numbers, e.g. ``{"jump_s": 600}`` or ``{"source_start_s": 12}``.
    """

    kind: str
    start_s: float
    end_s: float
    params: dict = field(default_factory=dict, hash=False, compare=False)

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


def _active(tampers: tuple[Tamper, ...], t: float, kinds: tuple[str, ...]) -> list[Tamper]:
    return [x for x in tampers if x.kind in kinds and x.active(t)]


def in_gap(tampers: tuple[Tamper, ...], t: float) -> bool:
    """True when the recording has no frame at ``t`` (the NVR lost or someone cut it)."""
    return bool(_active(tampers, t, ("footage_gap",)))


def picture_source(tampers: tuple[Tamper, ...], t: float) -> float:
    """The room time whose picture is shown at recording time ``t``."""
    for x in _active(tampers, t, ("frozen_video", "timestamp_frozen")):
        return x.start_s
    for x in _active(tampers, t, ("looped_segment",)):
        return x.params["source_start_s"] + (t - x.start_s)
    return t


def clock_offset(tampers: tuple[Tamper, ...], t: float) -> float:
    """Seconds after the session's wall start that the OSD clock prints at recording time ``t``."""
    shown = t
    for x in tampers:
        if x.kind == "timestamp_jump" and t >= x.start_s:
            shown += x.params["jump_s"]
        elif x.kind == "timestamp_backwards" and t >= x.start_s:
            shown -= x.params["back_s"]
    for x in _active(tampers, t, ("timestamp_frozen",)):
        # A hung encoder stops its clock too: it keeps printing the second it froze on.
        shown = clock_offset(tuple(y for y in tampers if y is not x), x.start_s)
    return shown


def spliced(tampers: tuple[Tamper, ...], t: float) -> bool:
    """True when the picture at room time ``t`` comes from other footage spliced in."""
    return bool(_active(tampers, t, ("splice",)))


def picture_tampers(tampers: tuple[Tamper, ...], t: float) -> list[Tamper]:
    return _active(tampers, t, PICTURE_KINDS)


@lru_cache(maxsize=4)
def _cloth(height: int, width: int, seed: int) -> np.ndarray:
    # A hand or cloth over the lens: dark, smooth, slightly uneven, no detail.
    rng = np.random.default_rng(seed)
    low = rng.uniform(18, 55, size=(3, 4, 1)).astype(np.float32)
    tint = np.array([1.0, 0.95, 1.1], np.float32)[None, None]
    img = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)[:, :, None] * tint
    return np.clip(img, 0, 255).astype(np.uint8)


def degrade(frame: np.ndarray, active: list[Tamper], seed: int = 0) -> np.ndarray:
    """Apply what happened to the camera (covered, defocused, moved, black, over-exposed)."""
    H, W = frame.shape[:2]
    for x in active:
        if x.kind == "camera_covered":
            frame = cv2.addWeighted(_cloth(H, W, seed), 0.94, frame, 0.06, 0)
        elif x.kind == "camera_defocused":
            # Shrink-and-grow blurs like a lens out of focus at a fraction of GaussianBlur's cost.
            k = float(x.params.get("factor", 8.0))
            small = cv2.resize(frame, (max(2, int(W / k)), max(2, int(H / k))), interpolation=cv2.INTER_AREA)
            frame = cv2.GaussianBlur(cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR), (5, 5), 0)
        elif x.kind == "camera_moved":
            m = cv2.getRotationMatrix2D((W / 2, H / 2), float(x.params.get("rotate_deg", 0.0)), 1.0)
            m[0, 2] += float(x.params.get("dx_px", 0.0))
            m[1, 2] += float(x.params.get("dy_px", 0.0))
            frame = cv2.warpAffine(frame, m, (W, H), borderMode=cv2.BORDER_REPLICATE)
        elif x.kind == "video_black":
            frame = np.full_like(frame, int(x.params.get("level", 10)))
        elif x.kind == "video_overexposed":
            frame = cv2.convertScaleAbs(frame, alpha=float(x.params.get("gain", 3.0)), beta=float(x.params.get("lift", 110)))
    return frame
