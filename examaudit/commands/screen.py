"""``examaudit screen PROVINCE_DIR --out DIR``: every exam point of a province, ranked."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..audit import command_line
from ..errors import InputError
from ..progress import _enabled
from .analyze import add_detector_option, add_fps_option
from .audit import params_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen",
        help="screen every exam point of a province (footage and records) and rank them",
        description="考点批量筛查 / Screen a province folder: exam_points/<EP>/ (exam-point folders as `audit` reads "
        "them) and an optional province-wide records/ folder. Writes each exam point's audit, report and pack, "
        "and DIR/screening.html/.pdf, exam_points.csv, screening.xlsx. Resumable: rerun the same command after "
        "an interruption and finished work is reused.",
    )
    p.add_argument("province_dir", type=Path, help="folder with exam_points/<EP>/ and optional records/")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                       help="processes on this machine (default %(default)s)")
    where.add_argument("--cluster", metavar="local:N", help="start a Dask cluster of N workers on this machine")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask cluster (tcp://host:8786); workers must see the footage at the same paths")
    p.add_argument("--only-risk-above", type=float, metavar="X",
                   help="write reports and evidence packs only for exam points whose risk (1 - q) is above X")
    p.add_argument("--fdr", type=float, default=0.10, help="false discovery rate for the province ranking (default 0.10)")
    p.add_argument("--every", type=float, default=5.0, metavar="SECONDS", help="video sampling interval (default 5 s)")
    p.add_argument("--no-people", action="store_true", help="skip the person detector")
    add_fps_option(p)
    add_detector_option(p)
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language (default zh)")
    p.add_argument("--show-personal-data", action="store_true",
                   help="print ID and phone numbers in full in the reports (masked by default)")
    p.add_argument("--no-report", action="store_true", help="skip the exam points' reports and packs and the PDF summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..screen import ScreenProgress, plan_province, screen_province

    params = params_from(args)
    if args.only_risk_above is not None and not 0 <= args.only_risk_above < 1:
        raise InputError(f"--only-risk-above must be in [0, 1), got {args.only_risk_above}")
    if not 0 < args.fdr < 1:
        raise InputError(f"--fdr must be in (0, 1), got {args.fdr}")
    plan = plan_province(args.province_dir, args.out, params)  # every problem, before any work
    for prob in plan.problems:
        print(f"examaudit: warning: {prob}", file=sys.stderr)
    for folder, probs in plan.rejected.items():
        for prob in probs:
            print(f"examaudit: exam point folder {folder} left out: {prob}", file=sys.stderr)
    bar = tqdm(total=round(plan.hours, 3), desc="screen", unit="h", file=sys.stderr, disable=not _enabled(),
               leave=False, bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} footage h "
               "[{elapsed}<{remaining}]{postfix}")

    def tick(p: ScreenProgress) -> None:
        bar.n = round(min(p.hours_done, p.hours_total), 3)
        bar.set_description(f"screen ({p.stage})", refresh=False)
        bar.set_postfix_str(f"recordings {p.done}/{p.recordings_total} done, {p.failed} failed, {p.running} running")

    try:
        result = screen_province(
            args.province_dir, args.out, params=params, workers=args.workers, cluster=args.cluster,
            scheduler=args.scheduler, only_risk_above=args.only_risk_above, fdr=args.fdr, lang=args.lang,
            show_personal_data=args.show_personal_data, reports=not args.no_report, on_progress=tick,
            command=command_line(sys.argv[1:]))
    finally:
        bar.close()
    c = result.counts()
    flagged = sum(r.level in ("risk_high", "risk_medium") for r in result.ranked)
    print(f"screened {len(result.ranked)} exam point(s) ({sum(not r.score.has_footage for r in result.ranked)} records "
          f"only), {result.plan.hours:.2f} footage hours on {result.executor} in {result.seconds:.0f} s; recordings "
          f"analysed {c['analysed']}, reused {c['reused']}, unreadable {c['failed']}; {flagged} at risk (FDR {args.fdr:g})")
    for r in result.ranked[:10]:
        print(f"  {r.rank:>3}. {r.score.exam_point:<16} q={r.q_value:.3g}  {r.level.removeprefix('risk_')}")
    for kind, path in result.files.items():
        print(f"  {kind}: {path}")
    bad = False
    for name, err in sorted(result.errors.items()):
        print(f"examaudit: {name}: {err}", file=sys.stderr)
        bad = True
    if result.plan.rejected or any("records not screened" in p.message for p in result.problems):
        print(f"examaudit: {len(result.plan.rejected)} exam point folder(s) left out for bad input; the rest is written",
              file=sys.stderr)
        return 2
    return 3 if bad else 0
