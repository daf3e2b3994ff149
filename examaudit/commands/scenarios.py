"""``examaudit scenarios``: write synthetic exam-room clips with planted irregularities and truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..scenarios.catalog import SCENARIOS

    p = sub.add_parser(
        "scenarios", help="generate synthetic exam-room clips with known irregularities",
        description="生成带已知异常的模拟考场录像 / Write synthetic exam-room CCTV clips, one per scenario, "
        "each with <clip>.truth.json (planted events, per-second head counts) and an index suite.json. "
        "With ../shared/footage present, clips derived from real footage are added under real/. "
        f"Scenarios: {', '.join(SCENARIOS)}.")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--seed", type=int, default=0, help="drives every random choice (default 0)")
    p.add_argument("--width", type=int, default=640, help="frame width in pixels (default 640)")
    p.add_argument("--height", type=int, default=360, help="frame height in pixels (default 360)")
    p.add_argument("--fps", type=float, default=10, help="frames per second (default 10)")
    p.add_argument("--gop", type=float, default=2.0, help="seconds between keyframes (default 2)")
    p.add_argument("--duration", type=float, default=60, help="seconds per clip (default 60)")
    p.add_argument("--only", default=None, metavar="NAME,NAME", help="only these scenarios")
    p.add_argument("--no-real", action="store_true", help="skip clips derived from real footage")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..scenarios.catalog import SCENARIOS
    from ..scenarios.generate import generate_suite

    names = None
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            raise InputError(f"--only: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    if args.width % 2 or args.height % 2 or args.width < 64 or args.height < 36:
        raise InputError(f"--width/--height must be even and at least 64x36, got {args.width}x{args.height}")
    if not 1 <= args.fps <= 60:
        raise InputError(f"--fps must be between 1 and 60, got {args.fps}")
    if args.gop <= 0:
        raise InputError(f"--gop must be positive, got {args.gop}")
    if args.duration < 2:
        raise InputError(f"--duration must be at least 2 seconds, got {args.duration}")
    if args.out.exists() and not args.out.is_dir():
        raise InputError("--out exists and is not a folder", path=args.out)

    from tqdm import tqdm

    bar = tqdm(total=1000, file=sys.stderr, desc="scenarios", leave=True, mininterval=0.5,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    current = [""]

    def progress(name: str, fraction: float) -> None:
        if name != current[0]:  # describe only on change: every refresh is a line on a non-tty stderr
            current[0] = name
            bar.set_description_str(name[:24], refresh=False)
        step = int(fraction * 1000) - bar.n
        if step >= 5 or fraction >= 1.0:
            bar.update(max(0, step))

    try:
        paths = generate_suite(args.out, args.seed, width=args.width, height=args.height, fps=args.fps,
                               gop_s=args.gop, duration_s=args.duration, scenarios=names,
                               include_real=not args.no_real, progress=progress)
    finally:
        bar.close()
    print(f"wrote {len(paths)} clips with truth files to {args.out} (index: {args.out / 'suite.json'})")
    return 0
