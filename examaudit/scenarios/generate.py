"""Render scenario specs into clips with truth files: the suite, and long benchmark clips.

Example:
    >>> import tempfile
    >>> paths = generate_suite(tempfile.mkdtemp(), seed=1, width=160, height=90, duration_s=3,
    ...                        scenarios=["normal"], include_real=False)
    >>> [p.name for p in paths]
    ['normal.mp4']
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .catalog import SCENARIOS, ScenarioSpec, build_scenario, people_at
from .clip import ClipWriter
from .osd import Osd
from .room import RoomRenderer
from .sensor import SensorNoise
from .tamper import clock_offset, degrade, in_gap, picture_source, picture_tampers, spliced
from .truth import truth_for, truth_path, write_truth

Progress = Callable[[str, float], None]


def render_frames(spec: ScenarioSpec) -> Iterator[tuple[float, np.ndarray]]:
    """``(pts_s, bgr)`` for every frame the recording holds (frames in a gap are skipped)."""
    renderers = {id(spec.scene): RoomRenderer(spec.scene.layout)}
    if spec.alt_scene is not None:
        renderers[id(spec.alt_scene)] = RoomRenderer(spec.alt_scene.layout)
    noise = SensorNoise(spec.height, spec.width, seed=spec.seed)
    osd = Osd(spec.width, spec.height, spec.clock, f"{spec.room_name} {spec.camera_id}")
    n = int(round(spec.duration_s * spec.fps))
    last_src, last_picture = None, None
    for i in range(n):
        t = i / spec.fps
        if in_gap(spec.tampers, t):
            continue
        src = picture_source(spec.tampers, t)
        src_index = int(round(src * spec.fps))
        if src_index != last_src:
            scene = spec.alt_scene if spliced(spec.tampers, src) and spec.alt_scene is not None else spec.scene
            seated, standing = people_at(scene, src)
            picture = renderers[id(scene)].render(seated, standing)
            picture = degrade(picture, picture_tampers(spec.tampers, src), seed=spec.seed)
            # Noise is keyed to the source frame, so a frozen or replayed picture repeats exactly.
            last_picture, last_src = noise.apply(picture, src_index), src_index
        frame = last_picture.copy()
        osd.draw(frame, spec.wall_start + timedelta(seconds=clock_offset(spec.tampers, t)))
        yield t, frame


def render_clip(spec: ScenarioSpec, path: str | Path, *, preset: str = "veryfast", crf: int = 28,
                on_frame: Callable[[float], None] | None = None) -> Path:
    """Write ``spec`` to ``path`` and its truth to ``<path>.truth.json``. Returns the clip path."""
    path = Path(path)
    with ClipWriter(path, spec.width, spec.height, fps=spec.fps, gop_s=spec.gop_s, preset=preset, crf=crf) as w:
        for t, frame in render_frames(spec):
            w.write(frame, t)
            if on_frame is not None:
                on_frame(t)
    write_truth(truth_for(spec, path.name), truth_path(path))
    return path


def _check_size(width: int, height: int, fps: float, duration_s: float, gop_s: float) -> None:
    if width < 64 or height < 36 or width % 2 or height % 2:
        raise ValueError(f"size must be even and at least 64x36, got {width}x{height}")
    if not 1 <= fps <= 60:
        raise ValueError(f"fps must be between 1 and 60, got {fps}")
    if duration_s < 2:
        raise ValueError(f"duration must be at least 2 s, got {duration_s}")
    if gop_s <= 0:
        raise ValueError(f"GOP must be positive, got {gop_s}")


def generate_suite(out_dir: str | Path, seed: int, *, width: int = 640, height: int = 360, fps: float = 10,
                   gop_s: float = 2.0, duration_s: float = 60, scenarios: Iterable[str] | None = None,
                   include_real: bool = True, progress: Progress | None = None) -> list[Path]:
    """Write one clip per scenario (plus real-footage clips when the footage is present).

    Writes ``<out_dir>/<scenario>.mp4``, its ``.truth.json`` and an index ``suite.json``.
    ``progress(name, fraction_of_suite_done)`` is called as frames are written.

    Raises:
        ValueError: an unknown scenario name or an unusable size, rate or duration.
    """
    _check_size(width, height, fps, duration_s, gop_s)
    names = list(SCENARIOS) if scenarios is None else list(scenarios)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    index = []
    total = max(1, len(names))
    for k, name in enumerate(names):
        spec = build_scenario(name, seed, width=width, height=height, fps=fps, gop_s=gop_s, duration_s=duration_s)
        started = time.perf_counter()
        tick = (lambda t, k=k, name=name: progress(name, (k + t / duration_s) / total)) if progress else None
        path = render_clip(spec, out / f"{name}.mp4", on_frame=tick)
        paths.append(path)
        index.append({"clip": path.name, "truth": truth_path(path).name, "scenario": name,
                      "primary_kind": spec.primary_kind, "kinds": sorted({e["kind"] for e in spec.events}),
                      "render_s": round(time.perf_counter() - started, 2)})
    if include_real:
        from .real import footage_dir, generate_real_clips

        if footage_dir() is not None:
            for path in generate_real_clips(out / "real", seed, progress=progress):
                paths.append(path)
                truth = json.loads(truth_path(path).read_text(encoding="utf-8"))
                index.append({"clip": str(path.relative_to(out)), "truth": str(truth_path(path).relative_to(out)),
                              "scenario": truth["scenario"], "primary_kind": truth.get("primary_kind"),
                              "kinds": sorted({e["kind"] for e in truth["events"]})})
    suite = {"seed": seed, "width": width, "height": height, "fps": fps, "gop_s": gop_s, "duration_s": duration_s,
             "clips": index}
    (out / "suite.json").write_text(json.dumps(suite, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if progress:
        progress("done", 1.0)
    return paths


def generate_long_clip(path: str | Path, seconds: float, width: int = 1920, height: int = 1080, fps: float = 25,
                       gop_s: float = 2.0, seed: int = 0, *, preset: str = "ultrafast", crf: int = 30,
                       progress: Callable[[float], None] | None = None) -> Path:
    """A normal session of ``seconds`` for throughput benchmarks (30 seats at 1080p).

    Uses x264 ``ultrafast``; at 1080p the encoder, not the drawing, sets the pace.
    """
    _check_size(width, height, fps, seconds, gop_s)
    spec = build_scenario("normal", seed, width=width, height=height, fps=fps, gop_s=gop_s, duration_s=seconds)
    return render_clip(spec, path, preset=preset, crf=crf, on_frame=progress)
