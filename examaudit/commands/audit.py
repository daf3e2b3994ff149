"""``examaudit audit EXAM_POINT_DIR --out DIR``: the whole audit of one exam point."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..audit import STATUSES, RecordingOutcome, check_originals, command_line, run_audit
from ..errors import InputError
from ..progress import items_bar
from ..video.analyze import AnalyzeParams
from .analyze import add_detector_option, add_fps_option, check_fps, people_params


def add_common(p: argparse.ArgumentParser) -> None:
    """Options shared by ``audit`` and ``demo``."""
    p.add_argument("--every", type=float, default=AnalyzeParams.every_s, metavar="SECONDS",
                   help=f"video sampling interval (default {AnalyzeParams.every_s:g} s)")
    p.add_argument("--no-people", action="store_true", help="skip the person detector")
    add_fps_option(p)
    add_detector_option(p)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="recordings analysed in parallel on this machine (default %(default)s)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run recordings on a Dask cluster instead (tcp://host:8786; needs the cluster extra)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language (default zh)")
    p.add_argument("--show-personal-data", action="store_true",
                   help="print ID and phone numbers in full in the report (masked by default)")
    p.add_argument("--no-report", action="store_true", help="skip report.html/report.pdf and evidence_pack.zip")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit",
        help="audit one exam point folder: all its footage and records",
        description="Audit an exam point folder (exam_point.yaml, footage/, records/). Resumable: rerun the "
        "same command after an interruption and finished recordings are reused.",
    )
    p.add_argument("exam_point_dir", type=Path, help="folder with exam_point.yaml, footage/ and records/")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--originals", type=Path, metavar="SHA256SUMS",
                   help="checksums written when the files were received (sha256sum format, names relative to "
                        "the exam point folder): each file is hashed again before the analysis and before the "
                        "evidence pack, and one that changed stops the audit with an evidence_integrity finding")
    add_common(p)
    p.set_defaults(run=run)


def params_from(args: argparse.Namespace) -> AnalyzeParams:
    if args.every <= 0:
        raise InputError(f"--every must be positive, got {args.every}")
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    return AnalyzeParams(every_s=args.every, people=not args.no_people, fps=check_fps(args.fps),
                         people_thresholds=people_params(args.detector))


def audit_one(exam_point_dir: Path, out: Path, args: argparse.Namespace) -> int:
    params = params_from(args)
    originals = None
    if getattr(args, "originals", None) is not None:
        from ..outputs import read_checksums

        originals = read_checksums(args.originals)
    from ..audit import find_config, load_exam_point, plan_recordings

    cfg_path = find_config(exam_point_dir)
    total = len(plan_recordings(cfg_path, load_exam_point(cfg_path), out, params))
    bar = items_bar(None, f"audit {exam_point_dir.name}", total=total, unit="recording")

    def tick(o: RecordingOutcome) -> None:
        bar.update(1)
        if o.status in ("failed", "error"):
            bar.write(f"  {o.job.label}: {o.error}", file=sys.stderr)

    try:
        result = run_audit(exam_point_dir, out, params=params, workers=args.workers, scheduler=args.scheduler,
                           on_recording=tick, command=command_line(sys.argv[1:]), originals=originals)
    finally:
        bar.close()
    if originals and not result.integrity_failures and check_originals(originals, exam_point_dir):
        # changed while the analysis ran: the same stop as before it, so no pack is built on them
        result = run_audit(exam_point_dir, out, params=params, command=command_line(sys.argv[1:]),
                           originals=originals)
    if result.integrity_failures:
        for c in result.integrity_failures:
            print(f"examaudit: {exam_point_dir / c['file']}: sha256 is {c['found'] or 'missing (file gone)'}, "
                  f"expected {c['expected']} from {args.originals}; audit stopped, no report or pack",
                  file=sys.stderr)
        return 2
    if not args.no_report:
        from ..report.pack import build_evidence_pack
        from ..report.render import render_report

        files = render_report(out, lang=args.lang, show_personal_data=args.show_personal_data)
        pack = build_evidence_pack(out)
        print(f"  report: {files.html_path}  {files.pdf_path or ''}\n  evidence pack: {pack}")
    counts = {s: sum(o.status == s for o in result.outcomes) for s in STATUSES}
    print(f"{result.config.exam_point}: {len(result.findings)} finding(s); recordings analysed {counts['analysed']}, "
          f"reused {counts['reused']}, unreadable {counts['failed']} -> {out}")
    if counts["error"]:
        for o in result.outcomes:
            if o.status == "error":
                print(f"examaudit: {o.job.label}: {o.error}", file=sys.stderr)
        print(f"examaudit: {counts['error']} recording(s) hit an internal error; the rest is written. "
              "Rerun to retry them.", file=sys.stderr)
        return 3
    return 0


def run(args: argparse.Namespace) -> int:
    return audit_one(args.exam_point_dir, args.out, args)
