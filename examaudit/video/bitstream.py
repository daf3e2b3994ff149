"""The bitstream pass: read every packet's timing and size without decoding a single frame.

Demuxing costs almost nothing (hundreds to thousands of times real time), and it already
answers several integrity questions: where the PTS timeline has holes, overlaps or backward
steps, what the real GOP is, whether the frame rate changes, and where the picture is static
(tiny inter-frame packets), which tells the sampler where decoding is worth its cost.

:func:`read_packets` does the I/O; everything else here is pure functions over the
:class:`PacketTimeline` arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import av
import numpy as np


#: Frames closer than this on average (over 1000 fps) mean the timestamps are not times.
MIN_FRAME_INTERVAL_S = 1e-3


@dataclass
class PacketTimeline:
    """Per-packet facts of a recording's video stream, in decode order.

    Attributes:
        pts: presentation timestamps in stream time-base units (``-1`` where absent); for a
            stream without timestamps, the packet's number.
        t_s: seconds from the stream's first PTS (NaN where PTS is absent).
        size: packet sizes in bytes.
        keyframe: whether each packet starts a GOP.
        time_base: seconds per PTS unit.
        errors: ``(t_s, message)`` for packets the demuxer reported as corrupt or where
            demuxing stopped early.
        truncated: demuxing stopped before the end of the file.
        origin_pts: the PTS that is second 0 of the footage (the earliest one), in stream
            units; every time in a finding is counted from it.
        derived_fps: set when no packet carried a timestamp (raw H.264/H.265): times are then
            packet numbers divided by this rate, and say nothing about the camera's clock.
    """

    pts: np.ndarray
    t_s: np.ndarray
    size: np.ndarray
    keyframe: np.ndarray
    time_base: float
    errors: list[tuple[float, str]] = field(default_factory=list)
    truncated: bool = False
    origin_pts: int | None = None
    derived_fps: float | None = None
    #: why times were derived: ``none`` (no timestamps) or ``implausible`` (e.g. a zero time scale)
    derived_why: str | None = None

    @property
    def timestamps_derived(self) -> bool:
        return self.derived_fps is not None

    def __len__(self) -> int:
        return int(self.size.size)

    def presentation_order(self) -> np.ndarray:
        """Indices sorting packets by PTS: B-frames arrive out of order in decode order."""
        valid = np.flatnonzero(np.isfinite(self.t_s))
        return valid[np.argsort(self.t_s[valid], kind="stable")]

    @property
    def duration_s(self) -> float:
        t = self.t_s[np.isfinite(self.t_s)]
        if t.size == 0:
            return 0.0
        return float(t.max() - t.min() + self.frame_interval_s)

    @property
    def frame_interval_s(self) -> float:
        """The typical spacing between frames, from PTS rather than the declared rate."""
        t = np.sort(self.t_s[np.isfinite(self.t_s)])
        d = np.diff(t)
        d = d[d > 0]
        return float(np.median(d)) if d.size else 0.0

    @property
    def gop_s(self) -> float | None:
        """Median time between keyframes; None when the stream has fewer than two."""
        k = np.sort(self.t_s[self.keyframe & np.isfinite(self.t_s)])
        if k.size < 2:
            return None
        return float(np.median(np.diff(k)))


def read_packets(path: str | Path, progress: Callable[[float], None] | None = None, *,
                 fps: float = 25.0) -> PacketTimeline:
    """Demux the first video stream of ``path`` without decoding.

    Corrupt packets and truncation do not raise: they are recorded in ``errors`` and the
    packets read so far are kept, because everything before the damage is still evidence.
    Error times, like all times here, are seconds from the first PTS: DAV files count PTS in
    Unix milliseconds, so a raw PTS is never a footage time.

    Parameters:
        fps: the rate that numbers the packets when none carries a timestamp (a raw stream).
    """
    pts: list[int] = []
    sizes: list[int] = []
    keys: list[bool] = []
    #: (raw PTS or -1, packet number, message): turned into footage seconds once the origin is known
    raw_errors: list[tuple[int, int, str]] = []
    truncated = False
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base) if stream.time_base else 1.0
        duration = float(container.duration / av.time_base) if container.duration else None
        demux = container.demux(stream)
        first = None
        last_report = 0.0
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except (av.error.FFmpegError, OverflowError, ValueError) as exc:
                # Past a broken header or a cut-off end nothing more can be demuxed reliably.
                last = next((q for q in reversed(pts) if q >= 0), -1)
                raw_errors.append((last, len(pts), f"demuxing stopped: {exc}"))
                truncated = True
                break
            if packet.size == 0:  # the flush packet at the end
                continue
            p = packet.pts if packet.pts is not None else (packet.dts if packet.dts is not None else -1)
            pts.append(p)
            sizes.append(packet.size)
            keys.append(bool(packet.is_keyframe))
            if packet.is_corrupt:
                raw_errors.append((p, len(pts) - 1, "packet flagged corrupt by the demuxer"))
            if p >= 0 and first is None:
                first = p
            if progress and duration and p >= 0 and first is not None and ((p - first) * tb - last_report) > 30:
                last_report = (p - first) * tb
                progress(min(1.0, last_report / duration))
    pts_a = np.asarray(pts, dtype=np.int64)
    valid = pts_a >= 0
    derived = None
    derived_why = None
    if pts_a.size and not valid.any():
        derived_why = "none"
    elif valid.sum() >= 2 and (pts_a[valid].max() - pts_a[valid].min()) * tb / (valid.sum() - 1) < MIN_FRAME_INTERVAL_S:
        # A zero time scale or a rate of billions per second: the stamps cannot be times.
        derived_why = "implausible"
    if derived_why is not None:
        # No usable timestamps (a raw elementary stream): number the packets at the given rate.
        derived = float(fps)
        pts_a = np.arange(pts_a.size, dtype=np.int64)
        valid = np.ones(pts_a.size, bool)
        tb = 1.0 / derived
    t0 = int(pts_a[valid].min()) if valid.any() else 0
    t_s = np.where(valid, (pts_a - t0) * tb, np.nan)
    errors: list[tuple[float, str]] = []
    for raw, number, message in raw_errors:
        if derived is not None:
            errors.append((number / derived, message))
        elif raw >= 0:
            errors.append(((raw - t0) * tb, message))
        else:
            errors.append((float("nan") if number < len(pts) else (float(np.nanmax(t_s)) if valid.any() else 0.0),
                           message))
    return PacketTimeline(
        pts=pts_a,
        t_s=t_s,
        size=np.asarray(sizes, dtype=np.int64),
        keyframe=np.asarray(keys, dtype=bool),
        time_base=tb,
        errors=errors,
        truncated=truncated,
        origin_pts=None if derived is not None or not valid.any() else t0,
        derived_fps=derived,
        derived_why=derived_why,
    )


@dataclass(frozen=True)
class TimelineBreak:
    """A discontinuity in presentation time between two consecutive frames.

    ``kind`` is ``gap`` (time missing), ``backwards`` (time goes back) or ``overlap``
    (a repeated timestamp).
    """

    kind: str
    start_s: float
    end_s: float
    missing_s: float


def timeline_breaks(tl: PacketTimeline, *, gap_factor: float = 3.0, min_gap_s: float = 0.5) -> list[TimelineBreak]:
    """Find PTS holes, backward steps and repeats in decode order.

    A hole counts when the step between consecutive frames exceeds ``gap_factor`` typical
    frame intervals and ``min_gap_s``; jitter from variable frame rate stays below that.
    """
    out: list[TimelineBreak] = []
    order = tl.presentation_order()
    if order.size < 2:
        return out
    step = tl.frame_interval_s
    t = tl.t_s[order]
    d = np.diff(t)
    for i in np.flatnonzero(d > max(gap_factor * step, min_gap_s)):
        out.append(TimelineBreak("gap", float(t[i]), float(t[i + 1]), float(d[i] - step)))
    # Backward steps are judged in decode order, relative to the highest PTS so far, because
    # reordered B-frames legitimately step back by a frame or two.
    dec = tl.t_s[np.isfinite(tl.t_s)]
    if dec.size > 1:
        high = np.maximum.accumulate(dec)
        behind = dec[1:] < high[:-1] - max(4 * step, 0.5)
        # One step back is one finding: the packets after it stay below the old high until
        # the timeline catches up, and each of them is not another edit.
        back = np.flatnonzero(behind & ~np.r_[False, behind[:-1]])
        for i in back:
            out.append(TimelineBreak("backwards", float(high[i]), float(dec[i + 1]), float(dec[i + 1] - high[i])))
    dup_count = int(np.sum(d == 0))
    if dup_count:
        i = int(np.flatnonzero(d == 0)[0])
        out.append(TimelineBreak("overlap", float(t[i]), float(t[i]), 0.0))
    return out
