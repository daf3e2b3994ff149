"""Clips derived from real footage: NVR-style re-encodes as controls, and tampered variants.

Real camera footage (``../shared/footage``, CC BY 4.0, see its ATTRIBUTION.md) is not part
of the product: it is read from there and everything derived from it is written to an
output folder only, never into the repository.

What is made (``only`` picks a subset):

- ``control``: re-encoded as an NVR would (10-25 fps, GOP 1-2 s, burned-in clock);
- ``freeze``: the picture holds still for a span while the clock runs;
- ``loop``: an earlier span replayed, clock running on;
- ``cut``: a span removed and the rest joined; PTS stay continuous, the burned-in clock jumps;
- ``blur``: the lens defocused for a span;
- ``shift``: the camera knocked from a time on;
- ``walkers``: people cut out of the static-camera clip by background subtraction
  (MOG2) and pasted walking through a still of another room (the classroom).

Per-second ``persons`` is ``-1`` (unknown) for real pictures, except in ``walkers`` where it
counts the pasted walkers only, in ``details``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from .catalog import CST
from .clip import ClipWriter
from .osd import ClockStyle, Osd
from .sensor import SensorNoise
from .tamper import Tamper, clock_offset, degrade, in_gap, picture_source, picture_tampers
from .truth import SecondTruth, Truth, TruthEvent, truth_path, write_truth

WALKER_SOURCE = "one-by-one-person-detection.mp4"
STILL_SOURCE = "classroom.gif"
VARIANTS = ("control", "freeze", "loop", "cut", "blur", "shift", "walkers")


def footage_dir(repo_root: str | Path | None = None) -> Path | None:
    """``<repo>/../shared/footage`` if it exists, else None."""
    root = Path(repo_root) if repo_root is not None else Path(__file__).resolve().parents[2]
    d = root.parent / "shared" / "footage"
    return d if d.is_dir() else None


def read_frames(path: Path, max_seconds: float, width: int | None = None) -> tuple[list[np.ndarray], float]:
    """Decode up to ``max_seconds`` of ``path`` as BGR (even-sized, optionally resized). Returns (frames, fps)."""
    frames = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or 10)
        for f in c.decode(s):
            if f.time is not None and f.time >= max_seconds:
                break
            img = f.to_ndarray(format="bgr24")
            h, w = img.shape[:2]
            if width is not None and w != width:
                img = cv2.resize(img, (width, int(round(h * width / w / 2)) * 2), interpolation=cv2.INTER_AREA)
            h, w = img.shape[:2]
            frames.append(np.ascontiguousarray(img[: h - h % 2, : w - w % 2]))
    return frames, fps


def resample(frames: list[np.ndarray], src_fps: float, fps: float) -> list[np.ndarray]:
    """Pick frames for a new rate, as an NVR recording at ``fps`` would have sampled the scene."""
    n = int(len(frames) / src_fps * fps)
    return [frames[min(len(frames) - 1, int(i * src_fps / fps))] for i in range(n)]


@dataclass(frozen=True)
class WalkerClip:
    """Foreground cut-outs over time: (bgr, mask) per source frame, in source pixels."""

    frames: list[tuple[np.ndarray, np.ndarray]]
    fps: float
    present: np.ndarray  # bool per frame: someone is in the foreground


def _person_boxes(frames: list[np.ndarray], every: int = 2, hold: int = 8) -> list[np.ndarray] | None:
    """Person boxes per frame from the project's detector, or None when it is unavailable.

    Runs every ``every`` frames; a box is held for up to ``hold`` frames when the detector
    blinks, since someone walking through does not vanish for a frame.
    """
    try:
        from ..video.detector import OnnxPersonDetector

        det = OnnxPersonDetector(threshold=0.25)
    except Exception:  # noqa: BLE001 - no model file or no onnxruntime: fall back to shape rules
        return None
    boxes: list[np.ndarray] = []
    last, age = np.zeros((0, 4)), 0
    for i, f in enumerate(frames):
        if i % every == 0:
            found = det.detect(f).xyxy
            if len(found):
                last, age = found, 0
            elif age > hold:
                last = np.zeros((0, 4))
        age += 1
        boxes.append(last)
    return boxes


def extract_walkers(frames: list[np.ndarray], fps: float, *, min_area: float = 0.01) -> WalkerClip:
    """People moving in a static camera, cut out with MOG2 background subtraction.

    This camera's auto-exposure makes MOG2 mark whole walls as foreground whenever the light
    shifts, so the foreground is kept only inside person boxes from the detector when it is
    available, else only the largest blob that is taller than wide.
    """
    mog = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=40, detectShadows=True)
    boxes = _person_boxes(frames)
    # The clip opens on the empty room: its median is a second opinion where MOG2 leaves holes
    # (it absorbs people who stand still).
    empty = np.median(np.stack(frames[: min(20, len(frames))]), axis=0).astype(np.uint8)
    out, present = [], []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    for i, f in enumerate(frames):
        fg = mog.apply(f)
        m = (fg == 255).astype(np.uint8)  # 127 = shadow, left out
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel, iterations=2)
        keep = np.zeros_like(m)
        if boxes is not None:
            diff = (cv2.absdiff(f, empty).max(axis=2) > 40).astype(np.uint8)
            both = cv2.morphologyEx(m | diff, cv2.MORPH_CLOSE, kernel, iterations=3)
            for x0, y0, x1, y1 in boxes[i]:
                pad = 0.04 * (y1 - y0)
                xa, ya = int(max(0, x0 - pad)), int(max(0, y0 - pad))
                xb, yb = int(min(m.shape[1], x1 + pad)), int(min(m.shape[0], y1 + pad))
                part = both[ya:yb, xa:xb]
                n, labels, stats, _ = cv2.connectedComponentsWithStats(part)
                if n > 1:  # the person is the biggest blob in their own box
                    keep[ya:yb, xa:xb] |= (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
        else:
            n, labels, stats, _ = cv2.connectedComponentsWithStats(m)
            cands = [j for j in range(1, n) if stats[j, cv2.CC_STAT_HEIGHT] > 1.2 * stats[j, cv2.CC_STAT_WIDTH]
                     and min_area * m.size <= stats[j, cv2.CC_STAT_AREA] <= 0.2 * m.size]
            if cands:
                keep[labels == max(cands, key=lambda j: stats[j, cv2.CC_STAT_AREA])] = 1
        if keep.sum() < min_area * m.size:
            keep[:] = 0
        out.append((f, keep))
        present.append(bool(keep.any()))
    return WalkerClip(out, fps, np.array(present))


def _present_runs(present: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, p in enumerate(list(present) + [False]):
        if p and start is None:
            start = i
        elif not p and start is not None:
            if i - start >= min_len:
                runs.append((start, i))
            start = None
    return runs


def _truth(name: str, path: Path, seed: int, size: tuple[int, int], fps: float, gop_s: float, duration: float,
           wall: datetime, clock: ClockStyle, events: list[TruthEvent], tampers: tuple[Tamper, ...],
           walkers_per_second: list[int] | None, source: str) -> Truth:
    rows = []
    for s in range(int(math.ceil(duration))):
        gap = in_gap(tampers, float(s))
        untrusted = bool(picture_tampers(tampers, float(s))) or any(
            x.active(float(s)) for x in tampers if x.kind in ("frozen_video", "looped_segment"))
        n = -1 if walkers_per_second is None else walkers_per_second[s]
        rows.append(SecondTruth(s, 0 if gap else n, -1, {}, not (gap or untrusted), -1, video=not gap))
    camera = {"id": "C1", "invigilators_allowed": 1, "invigilator_zone": None, "seats": []}
    return Truth(clip=path.name, scenario=f"real_{name}", seed=seed, width=size[0], height=size[1], fps=fps,
                 gop_s=gop_s, duration_s=duration, wall_start=wall, camera=camera, events=events, per_second=rows,
                 primary_kind=events[0].kind if events else None, clock_style=clock.as_dict(),
                 notes=f"derived from {source} (CC BY 4.0, intel-iot-devkit/sample-videos); persons -1 = not counted")


def _write(path: Path, frames: Iterator[tuple[float, np.ndarray]], size, fps, gop_s) -> None:
    with ClipWriter(path, size[0], size[1], fps=fps, gop_s=gop_s) as w:
        for t, f in frames:
            w.write(f, t)


def _nvr_frames(pictures: list[np.ndarray], fps: float, tampers: tuple[Tamper, ...], osd: Osd, wall: datetime,
                noise_seed: int) -> Iterator[tuple[float, np.ndarray]]:
    """Apply timeline and picture tampers and stamp the clock, as :func:`render_frames` does."""
    for i in range(len(pictures)):
        t = i / fps
        if in_gap(tampers, t):
            continue
        src = picture_source(tampers, t)
        j = min(len(pictures) - 1, int(round(src * fps)))
        frame = degrade(pictures[j].copy(), picture_tampers(tampers, src), seed=noise_seed)
        osd.draw(frame, wall + timedelta(seconds=clock_offset(tampers, t)))
        yield t, frame


def generate_real_clips(out_dir: str | Path, seed: int, *, max_seconds: float = 40, only: list[str] | None = None,
                        footage: str | Path | None = None, progress: Callable[[str, float], None] | None = None
                        ) -> list[Path]:
    """Write the real-footage variants to ``out_dir``; returns their paths (empty if no footage)."""
    src_dir = Path(footage) if footage is not None else footage_dir()
    if src_dir is None or not (src_dir / WALKER_SOURCE).is_file():
        return []
    names = list(VARIANTS) if only is None else [v for v in VARIANTS if v in only]
    rng = np.random.default_rng([seed, 4242])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fps = float(rng.choice([10, 12, 15, 20, 25]))
    gop_s = float(rng.choice([1.0, 2.0]))
    raw, src_fps = read_frames(src_dir / WALKER_SOURCE, max_seconds, width=640)
    pictures = resample(raw, src_fps, fps)
    duration = len(pictures) / fps
    size = (pictures[0].shape[1], pictures[0].shape[0])
    clock = ClockStyle(date_sep=str(rng.choice(["-", "/"])), weekday=True)
    wall = datetime(2024, 6, 20, 9, 0, int(rng.integers(0, 60)), tzinfo=CST)
    paths = []

    def span(lo, hi, length):
        a = round(float(rng.uniform(lo, hi)) * duration, 1)
        return a, round(min(a + float(rng.uniform(*length)) * duration, 0.95 * duration), 1)

    for k, name in enumerate(names):
        if progress:
            progress(f"real_{name}", k / max(1, len(names)))
        path = out / f"real_{name}.mp4"
        osd = Osd(size[0], size[1], clock, "第一考场 C1")
        tampers: tuple[Tamper, ...] = ()
        events: list[TruthEvent] = []
        pics = pictures
        walkers_ps = None
        if name == "freeze":
            a, b = span(0.2, 0.5, (0.15, 0.3))
            tampers = (Tamper("frozen_video", a, b),)
            events = [TruthEvent("frozen_video", a, b, None, {"osd_clock": "running"})]
        elif name == "loop":
            L = round(0.15 * duration, 1)
            src = round(float(rng.uniform(0.05, 0.2)) * duration, 1)
            at = round(float(rng.uniform(src + L + 0.05 * duration, 0.9 * duration - L)), 1)
            tampers = (Tamper("looped_segment", at, at + L, {"source_start_s": src}),)
            events = [TruthEvent("looped_segment", at, round(at + L, 2), None,
                                 {"source_start_s": src, "osd_clock": "continues"})]
        elif name == "cut":
            # Frames removed by editing the file: the burned-in clock jumps, PTS do not.
            a, b = span(0.3, 0.5, (0.15, 0.25))
            ia, ib = int(a * fps), int(b * fps)
            pics = pictures[:ia] + pictures[ib:]
            tampers = (Tamper("timestamp_jump", a, 1e9, {"jump_s": b - a}),)
            events = [TruthEvent("splice", a, a, None, {"removed_s": round(b - a, 2), "removed_from_s": a}),
                      TruthEvent("timestamp_jump", a, a, None, {"jump_s": round(b - a, 2), "implied_by": "splice"})]
        elif name == "blur":
            a, b = span(0.2, 0.5, (0.2, 0.3))
            tampers = (Tamper("camera_defocused", a, b, {"factor": 9.0}),)
            events = [TruthEvent("camera_defocused", a, b, None, {"factor": 9.0})]
        elif name == "shift":
            a = round(float(rng.uniform(0.3, 0.6)) * duration, 1)
            p = {"dx_px": round(float(rng.choice([-1, 1]) * 0.08 * size[0]), 1), "dy_px": 0.0,
                 "rotate_deg": round(float(rng.choice([-1, 1]) * rng.uniform(2, 4)), 2)}
            tampers = (Tamper("camera_moved", a, 1e9, p),)
            events = [TruthEvent("camera_moved", a, round(duration, 2), None, p)]
        elif name == "walkers":
            pics, walkers_ps, events = _walkers_into_still(src_dir, raw, src_fps, fps, size, rng)
        dur = len(pics) / fps
        _write(path, _nvr_frames(pics, fps, tampers, osd, wall, seed), size, fps, gop_s)
        write_truth(_truth(name, path, seed, size, fps, gop_s, dur, wall, clock, events, tampers, walkers_ps,
                           STILL_SOURCE + " + " + WALKER_SOURCE if name == "walkers" else WALKER_SOURCE),
                    truth_path(path))
        paths.append(path)
    return paths


def _walkers_into_still(src_dir: Path, raw: list[np.ndarray], src_fps: float, fps: float, size: tuple[int, int],
                        rng: np.random.Generator) -> tuple[list[np.ndarray], list[int], list[TruthEvent]]:
    """A still of the classroom with sensor noise, and the walkers of the static clip pasted in."""
    still_frames, _ = read_frames(src_dir / STILL_SOURCE, 1.0)
    still = cv2.resize(still_frames[0], size, interpolation=cv2.INTER_LINEAR)
    walk = extract_walkers(raw, src_fps)
    n = int(len(raw) / src_fps * fps)
    noise = SensorNoise(size[1], size[0], seed=int(rng.integers(0, 1 << 16)))
    # Walkers come in smaller than in the source, standing further back in the classroom.
    scale = float(rng.uniform(0.65, 0.8))
    dx = int(rng.uniform(0.0, 0.2) * size[0])
    pics, present = [], []
    for i in range(n):
        j = min(len(walk.frames) - 1, int(i * src_fps / fps))
        frame = still.copy()
        src, mask = walk.frames[j]
        if mask.any():
            sm = cv2.resize(src, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            mm = cv2.resize(mask, (sm.shape[1], sm.shape[0]), interpolation=cv2.INTER_NEAREST)
            y0 = size[1] - sm.shape[0]
            roi = frame[y0:y0 + sm.shape[0], dx:dx + sm.shape[1]]
            w = roi.shape[1]
            cv2.copyTo(sm[:, :w], mm[:, :w], roi)
        pics.append(noise.apply(frame, i))
        present.append(bool(mask.any()))
    per_second = [int(any(present[int(s * fps):int((s + 1) * fps)])) for s in range(int(math.ceil(n / fps)))]
    events = [TruthEvent("extra_person", round(a / fps, 1), round(b / fps, 1), None,
                         {"pasted_from": WALKER_SOURCE, "method": "MOG2 background subtraction"})
              for a, b in _present_runs(np.array(present), int(fps))]
    return pics, per_second, events
