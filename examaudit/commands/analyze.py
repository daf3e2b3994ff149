"""``examaudit analyze VIDEO --out DIR``: integrity and people analysis of one recording."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..config import load_exam_point
from ..errors import InputError, displayable
from ..outputs import staged_dir
from ..progress import fraction_bar
from ..video.analyze import AnalyzeParams, CameraContext, analyze_recording, write_analysis
from ..video.people_rules import PeopleThresholds


def add_detector_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detector", type=Path, metavar="NAME|YAML",
                   help="person detector: a bundled one by name (yolox_nano, the default; ssdlite, the fallback), or "
                        "a YAML mapping of name or model (.onnx path, relative to the YAML), layout (ssd_tf, yolo, "
                        "yolo_noobj, yolox), threshold, input_scale, bgr, tiles, ...")


def read_detector_spec(path: Path | None) -> dict | None:
    """The detector options in a YAML file, checked by opening the model once: a model that
    does not fit its layout stops the command before any footage is read.

    A relative ``model`` is taken relative to the YAML, so a detector folder can move as a whole.
    A bundled detector's name (``ssdlite``) that is not a file stands for ``{name: ssdlite}``.
    """
    if path is None:
        return None
    import yaml

    from ..video.detector import BUNDLED_DETECTORS, load_detector

    if str(path) in BUNDLED_DETECTORS and not path.exists():
        spec = {"name": str(path)}
        try:
            load_detector(spec).check()
        except (ValueError, FileNotFoundError) as exc:
            raise InputError(f"bundled detector {path}: {exc}") from exc
        return spec
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the detector options: {exc}") from exc
    if not isinstance(spec, dict):
        raise InputError(f"{path}: the detector options must be a mapping (model: ..., layout: ...)")
    model = spec.get("model")
    if model is not None and (path.parent / str(model)).is_file():
        spec["model"] = str((path.parent / str(model)).resolve())  # else a bundled model's name, or an error below
    try:
        load_detector(spec).check()
    except (ValueError, FileNotFoundError, TypeError) as exc:
        raise InputError(f"{path}: {exc}") from exc
    return spec


def add_fps_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fps", type=float, metavar="RATE",
                   help="frame rate for footage without timestamps (raw .h264/.265 from RTSP grabbers); "
                        "default: the rate the stream states, else 25. Times are then derived and say so")


def check_fps(fps: float | None) -> float | None:
    if fps is not None and not (0 < fps <= 1000):
        raise InputError(f"--fps must be between 0 and 1000, got {fps:g}")
    return fps


def people_params(detector: Path | None) -> PeopleThresholds:
    return PeopleThresholds(detector=read_detector_spec(detector))


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse one recording: footage integrity, tampering, people",
        description="Analyse one exam-room recording (mp4, mkv, avi, ts, ps, h264/h265, dav, gif, ...). "
        "Writes DIR/findings.json, DIR/samples.csv, DIR/recording.json and DIR/frames/. "
        "Nothing is written when the input is unusable.",
    )
    p.add_argument("video", type=Path, help="the footage file (never modified)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--config", type=Path, help="exam point YAML (rooms, cameras, seats, schedule)")
    p.add_argument("--camera", help="camera id in the config; inferred when the config lists this file")
    p.add_argument("--every", type=float, default=AnalyzeParams.every_s, metavar="SECONDS",
                   help=f"sampling interval in seconds of footage (default {AnalyzeParams.every_s:g})")
    p.add_argument("--max-width", type=int, default=AnalyzeParams.max_width,
                   help="analyse pictures downscaled to this width (default %(default)s)")
    p.add_argument("--no-people", action="store_true", help="skip the person detector")
    p.add_argument("--no-osd", action="store_true", help="skip reading the on-screen clock")
    add_fps_option(p)
    add_detector_option(p)
    p.set_defaults(run=run)


def camera_context(video: Path, config: Path | None, camera: str | None) -> CameraContext:
    """The camera a recording belongs to: named with --camera, or found by its file in the config."""
    if config is None:
        if camera:
            raise InputError("--camera needs --config")
        return CameraContext()
    cfg = load_exam_point(config)
    if camera:
        return CameraContext.from_config(cfg, camera)
    target = video.resolve()
    for _room, cam in cfg.cameras():
        if any(cfg.resolve(f) == target for f in cam.footage):
            return CameraContext.from_config(cfg, cam.id)
    if len(cfg.cameras()) == 1:
        return CameraContext.from_config(cfg, cfg.cameras()[0][1].id)
    raise InputError(f"{video.name} is not listed under any camera of {config}; name one with --camera")


def run(args: argparse.Namespace) -> int:
    if args.every <= 0:
        raise InputError(f"--every must be positive, got {args.every}")
    ctx = camera_context(args.video, args.config, args.camera)
    params = AnalyzeParams(every_s=args.every, max_width=args.max_width, people=not args.no_people,
                           osd=not args.no_osd, fps=check_fps(args.fps), people_thresholds=people_params(args.detector))
    with fraction_bar(f"analyze {args.video.name}") as progress:
        result = analyze_recording(args.video, context=ctx, params=params, progress=progress)
    command = displayable("examaudit " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    with staged_dir(args.out) as stage:
        write_analysis(result, stage, command)
    s = result.sampling
    derived = " (times derived: the file has no timestamps)" if result.timing.get("timestamps") == "derived" else ""
    print(f"{result.recording.name}: {len(result.findings)} finding(s), {s.samples} samples "
          f"({s.frames_decoded} frames decoded, {s.frames_skipped} skipped){derived} -> {args.out}")
    return 0
