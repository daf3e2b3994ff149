"""``examaudit demo [--out DIR]``: the whole audit of every exam point in sample_media/."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..audit import CONFIG_NAME
from ..errors import InputError
from .audit import add_common, audit_one

SAMPLE_MEDIA = Path(__file__).resolve().parents[2] / "sample_media"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="audit every exam point in the bundled sample_media/",
        description="Run the whole audit on the bundled sample exam points, one output folder each.",
    )
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default %(default)s)")
    p.add_argument("--sample-media", type=Path, default=SAMPLE_MEDIA, help=argparse.SUPPRESS)
    add_common(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    points = sorted(p.parent for p in args.sample_media.glob(f"*/{CONFIG_NAME}"))
    if not points:
        raise InputError("no exam point folders (with exam_point.yaml) found", path=args.sample_media)
    for ep in points:
        audit_one(ep, args.out / ep.name, args)
    print(f"demo outputs: {args.out.resolve()}")
    for ep in points:
        print(f"  {ep.name}: {(args.out / ep.name / 'findings.json').resolve()}")
    return 0
