"""``examaudit records``: screen roster, scores, responses, callbacks and certificates.

Parses arguments, shows progress on stderr, calls :func:`examaudit.records.pipeline.run_records`
and writes ``candidates.csv``, ``exam_points.csv``, ``findings.json`` and ``validation.csv``.

``examaudit records check FILE ... [--sheet NAME]`` is the dry run: it prints how each file was
understood (:func:`examaudit.records.check.check_records`) and writes nothing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tqdm import tqdm

from ..errors import InputError
from ..findings import now_utc
from ..records.pipeline import RecordsInputs, RecordsParameters, run_records, write_records_outputs

_STAGES = ("load", "exam-point screens", "IRT and person-fit", "response times", "answer similarity", "callbacks",
           "certificates", "fusion", "multivariate")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "records", help="records forensics: scores, responses, callbacks, certificates -> risk per exam point",
        description="考试记录分析 / Screen exam records. Only --roster and --scores are required; every other "
                    "screen runs when its file is given. Files are CSV (UTF-8 or GBK) or XLSX with Chinese or "
                    "English headers; see docs/records.md. `examaudit records check FILE ...` is a dry run that "
                    "prints how each file is understood (sheet, header row, columns, rows read/skipped/rejected, "
                    "problems) and writes nothing.",
        usage="examaudit records --roster R --scores S [options] --out DIR\n"
              "       examaudit records check FILE [FILE ...] [--sheet NAME]")
    p.add_argument("check", nargs="?", choices=("check",), help=argparse.SUPPRESS)
    p.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--sheet", help="(check) read only this sheet of each workbook")
    p.add_argument("--roster", type=Path, help="考生名单: candidate_id, exam_point, session, ... (required)")
    p.add_argument("--scores", type=Path, help="成绩: candidate_id, exam_point, session, total, ... (required)")
    p.add_argument("--responses", type=Path, help="作答明细 (long format): candidate_id, item_id, response, correct, seconds")
    p.add_argument("--callbacks", type=Path, help="回访记录")
    p.add_argument("--certificates", type=Path, help="发证记录")
    p.add_argument("--video-findings", type=Path, nargs="+", default=[], metavar="DIR",
                   help="video analysis output folders (or findings.json files); absent_candidate findings are used")
    p.add_argument("--out", type=Path, help="output folder (required)")
    p.add_argument("--pass-mark", type=float, default=60.0, help="pass mark when scores have none (default 60)")
    p.add_argument("--fdr", type=float, default=0.10, help="false discovery rate for exam-point findings (default 0.10)")
    p.add_argument("--combine", choices=("hmp", "cauchy"), default="hmp", help="p-value combination (default hmp)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run_check(args: argparse.Namespace) -> int:
    from ..records.check import check_records, format_checks

    if not args.files:
        raise InputError("records check: name at least one file")
    checks = check_records(args.files, sheet=args.sheet)
    print(format_checks(checks))
    unreadable = [c for c in checks if c.error]
    return 2 if unreadable else 0


def run(args: argparse.Namespace) -> int:
    if args.check:
        return run_check(args)
    if args.files:
        raise InputError(f"records: unexpected argument {str(args.files[0])!r} (did you mean `examaudit records check`?)")
    missing = [f"--{n}" for n in ("roster", "scores", "out") if getattr(args, n) is None]
    if missing:
        raise InputError(f"records: the following arguments are required: {', '.join(missing)}")
    if args.sheet:
        raise InputError("records: --sheet is for `examaudit records check`; a run reads every sheet with the table's header")
    started = now_utc()
    inputs = RecordsInputs(args.roster, args.scores, args.responses, args.callbacks, args.certificates)
    params = RecordsParameters(default_pass_mark=args.pass_mark, exam_point_fdr=args.fdr, combine=args.combine)
    bar = tqdm(total=len(_STAGES), desc="records", unit="stage", file=sys.stderr, disable=args.quiet, leave=False)

    def on_stage(name: str) -> None:
        bar.set_description(f"records: {name}")
        bar.update(1)

    try:
        result = run_records(inputs, video_findings=args.video_findings, parameters=params, on_stage=on_stage)
    finally:
        bar.close()
    command = "examaudit " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["records"] else "examaudit records"
    paths = write_records_outputs(result, args.out, command=command, started_at=started)
    s = result.stats
    flagged = int((result.exam_points.q_value <= args.fdr).sum())
    print(f"records: {s['candidates']} candidates at {s['exam_points']} exam points; {flagged} exam point(s) at FDR "
          f"{args.fdr:g}; {len(result.findings)} findings; {s['rejected_rows']} rejected row(s) -> {paths['validation']}",
          file=sys.stderr)
    for layout in result.tables.layouts:
        print(f"records: {sheet_summary(layout)}", file=sys.stderr)
    for screen, why in result.skipped.items():
        print(f"records: skipped {screen}: {why}", file=sys.stderr)
    return 0


def sheet_summary(layout) -> str:
    """``roster.xlsx: [第一批] 290 rows, [第二批] 290 rows; [说明] hidden, not read``."""
    parts = []
    for s in layout.sheets:
        name = f"[{s.name}] " if s.name else ""
        if s.state == "read":
            extra = f", {s.rows_skipped} skipped" if s.rows_skipped else ""
            parts.append(f"{name}{s.rows_read} rows read (header row {s.header_row}{extra})")
        else:
            parts.append(f"{name}{s.state}, not read")
    return f"{Path(layout.path).name}: " + "; ".join(parts)
