"""``examaudit bench``: throughput of the video pipeline on a generated session clip."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..bench import bench_clip, format_table, measure, peak_rss_mb, as_dicts
from ..errors import InputError
from ..video.analyze import AnalyzeParams


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure throughput (× real-time, × an OpenCV every-frame baseline)",
        description="Generate (or reuse) a CCTV-like session clip and time the bitstream pass, sampling and "
        "analysis against OpenCV reading every frame, in the same run. Prints ratios.",
    )
    p.add_argument("--video", type=Path, help="measure on this file instead of a generated clip")
    p.add_argument("--minutes", type=float, default=10.0, help="length of the generated clip (default %(default)s)")
    p.add_argument("--resolution", default="1920x1080", help="generated clip size WxH (default %(default)s)")
    p.add_argument("--every", type=float, default=AnalyzeParams.every_s, help="sampling interval (default %(default)s)")
    p.add_argument("--no-people", action="store_true", help="leave the person detector out")
    p.add_argument("--cache", type=Path, default=Path("out/bench"), help="where generated clips are kept")
    p.add_argument("--json", type=Path, help="also write the figures as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.video is None:
        try:
            w, h = (int(v) for v in args.resolution.lower().split("x"))
        except ValueError:
            raise InputError(f"--resolution must look like 1920x1080, got {args.resolution!r}") from None
        video = bench_clip(args.cache, args.minutes, w, h)
    else:
        video = args.video
        if not video.is_file():
            raise InputError("file not found", path=video)
    rows = measure(video, every_s=args.every, people=not args.no_people)
    print(f"clip: {video}")
    print(format_table(rows))
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"clip": str(video), "rows": as_dicts(rows), "peak_rss_mb": peak_rss_mb()}, indent=2))
    return 0
