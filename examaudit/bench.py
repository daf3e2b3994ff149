"""Throughput measurement: how many times faster than real time each stage runs.

Every figure is a ratio measured in the same run on the same clip, so it holds on any
machine: seconds of footage per second of work (× real-time), and the speed-up over the
naive baseline (OpenCV decoding every frame, as a first attempt would). Timed assertions
do not belong in tests; this module is what ``examaudit bench`` and ``benchmarks/`` run.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2

from .video.analyze import AnalyzeParams, analyze_recording
from .video.bitstream import read_packets
from .video.sampler import SamplingStats, iter_samples


@dataclass
class Throughput:
    stage: str
    footage_s: float
    wall_s: float
    note: str = ""

    @property
    def x_realtime(self) -> float:
        return self.footage_s / self.wall_s if self.wall_s > 0 else float("inf")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def opencv_every_frame(path: Path, max_seconds: float | None = None) -> tuple[float, float]:
    """The naive baseline: read every frame with OpenCV. Returns (footage seconds, wall seconds)."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    limit = int(max_seconds * fps) if max_seconds else None
    n = 0
    t0 = time.perf_counter()
    while limit is None or n < limit:
        ok, _ = cap.read()
        if not ok:
            break
        n += 1
    wall = time.perf_counter() - t0
    cap.release()
    return n / fps, wall


def measure(path: Path, every_s: float = AnalyzeParams.every_s, baseline_seconds: float = 120.0,
            people: bool = True) -> list[Throughput]:
    """Measure each stage on one clip. The baseline is timed on a slice and is a rate, so it
    compares fairly with full-length stages."""
    tl, t_demux = _timed(lambda: read_packets(path))
    dur = tl.duration_s
    out = [Throughput("bitstream pass (demux only)", dur, t_demux, f"{len(tl)} packets")]
    stats = SamplingStats()
    _, t_samp = _timed(lambda: sum(1 for _ in iter_samples(path, every_s, gop_s=tl.gop_s, total_frames=len(tl), stats=stats)))
    out.append(Throughput(f"sampling every {every_s:g}s ({stats.mode})", dur, t_samp,
                          f"{stats.frames_decoded} decoded, {stats.frames_skipped} skipped"))
    _, t_an = _timed(lambda: analyze_recording(path, params=AnalyzeParams(every_s=every_s, people=False)))
    out.append(Throughput("analyze --no-people", dur, t_an))
    if people:
        _, t_anp = _timed(lambda: analyze_recording(path, params=AnalyzeParams(every_s=every_s, people=True)))
        out.append(Throughput("analyze (default)", dur, t_anp))
    fs, t_base = opencv_every_frame(path, baseline_seconds)
    out.append(Throughput("baseline: OpenCV reads every frame", fs, t_base, f"timed on the first {fs:.0f} s"))
    return out


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def format_table(rows: list[Throughput]) -> str:
    base = next((r for r in rows if r.stage.startswith("baseline")), None)
    lines = [f"{'stage':42s} {'× real-time':>12s} {'× baseline':>11s}  note"]
    for r in rows:
        vs = f"{r.x_realtime / base.x_realtime:10.1f}×" if base else ""
        lines.append(f"{r.stage:42s} {r.x_realtime:11.1f}× {vs:>11s}  {r.note}")
    return "\n".join(lines)


def bench_clip(cache_dir: Path, minutes: float, width: int, height: int, fps: int = 25, gop_s: float = 2.0) -> Path:
    """A generated CCTV-like session clip, cached: generating it costs more than analysing it."""
    from .scenarios.generate import generate_long_clip

    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"session_{width}x{height}_{fps}fps_gop{gop_s:g}_{minutes:g}min.mp4"
    if not path.exists():
        tmp = path.with_suffix(".partial.mp4")
        generate_long_clip(tmp, minutes * 60.0, width=width, height=height, fps=fps, gop_s=gop_s, seed=0)
        os.replace(tmp, path)
    return path


def as_dicts(rows: list[Throughput]) -> list[dict]:
    return [{**asdict(r), "x_realtime": r.x_realtime} for r in rows]
