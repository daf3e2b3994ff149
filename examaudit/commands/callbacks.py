"""``examaudit callbacks plan|import``: the 学员电话回访 call list, and its answers back as a callbacks file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("callbacks", help="学员电话回访: plan a call list (.xlsx), import its answers as a callbacks file",
                       description="Plan whom to phone for one exam point and session, and turn the answered list "
                       "into the callbacks file that `examaudit records --callbacks` reads. See docs/cases.md.")
    cmds = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    pl = cmds.add_parser("plan", help="the call list: every flagged candidate plus a random control sample",
                         description="Every candidate that findings flag (absent on video, similarity cluster, "
                         "person misfit, certificate without a pass ...) in priority order, then a random control "
                         "sample of the others sized so that the Wilson interval of the not-in-person rate has "
                         "half-width at most --precision at the planning rate.")
    pl.add_argument("--roster", type=Path, required=True, help="考生名单 (CSV or xlsx, as `examaudit records` reads it)")
    pl.add_argument("--findings", type=Path, nargs="+", default=[], metavar="PATH",
                    help="findings.json files or folders holding them (records and audit outputs)")
    pl.add_argument("--exam-point", required=True, help="exam point code, e.g. EP-WZ-02")
    pl.add_argument("--session", required=True, help="session id, e.g. S1")
    pl.add_argument("--precision", type=float, default=0.10, help="half-width d of the Wilson interval (default %(default)s)")
    pl.add_argument("--confidence", type=float, default=0.95, help="confidence level (default %(default)s)")
    pl.add_argument("--planning-rate", type=float, default=0.10,
                    help="expected not-in-person rate p among unflagged candidates (default %(default)s; 0.5 is the "
                    "most cautious)")
    pl.add_argument("--seed", type=int, default=0, help="random seed of the control sample (default %(default)s)")
    pl.add_argument("--mask-phones", action="store_true", help="mask phone numbers (a list that leaves the call team)")
    pl.add_argument("--out", type=Path, required=True, help="the call list to write (.xlsx)")
    pl.set_defaults(run=run_plan)
    im = cmds.add_parser("import", help="answered call list (.xlsx) -> callbacks file (CSV) for `examaudit records`")
    im.add_argument("calls", type=Path, help="the answered call list (.xlsx)")
    im.add_argument("--existing", type=Path, help="an existing callbacks file whose rows come first")
    im.add_argument("--out", type=Path, required=True, help="the callbacks file to write (.csv)")
    im.set_defaults(run=run_import)


def load_findings(paths: list[Path]):
    """Findings from findings.json files or folders searched for them at any depth."""
    from ..findings import read_findings

    out = []
    for p in paths:
        found = [p] if p.is_file() else sorted(p.rglob("findings.json")) if p.is_dir() else []
        if not found:
            raise InputError("no findings.json here", path=p)
        for f in found:
            try:
                out += read_findings(f).findings
            except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
                raise InputError(f"not a findings.json: {type(exc).__name__}: {str(exc).splitlines()[0]}", path=f) from exc
    return out


def run_plan(args: argparse.Namespace) -> int:
    from ..cases.callbook import write_call_list
    from ..cases.callplan import plan_calls
    from ..records.load import load_roster

    if args.out.suffix.lower() != ".xlsx":
        raise InputError("the call list is written as .xlsx", path=args.out)
    roster, _rejected = load_roster(args.roster)
    findings = load_findings(args.findings)
    try:
        plan = plan_calls(roster, findings, args.exam_point, args.session, precision=args.precision,
                          confidence=args.confidence, planning_rate=args.planning_rate, seed=args.seed)
    except ValueError as exc:
        raise InputError(str(exc), path=args.roster) from None
    write_call_list(plan, args.out, mask_phones=args.mask_phones)
    s = plan.sample
    print(f"{args.out}: {len(plan.targets)} call(s) for {plan.exam_point} {plan.session} "
          f"({plan.session_size} candidates): {plan.flagged} flagged, {len(plan.controls)} control")
    print(f"  control sample n = {s.n} (n0 = {s.n0} before the finite-population correction, N = {s.population} "
          f"unflagged; confidence {s.confidence:g}, z = {s.z:.3f}, precision ±{s.precision:g}, planning rate "
          f"p = {s.planning_rate:g}, seed {plan.seed})")
    print("  formula: h(n) = z/(1+z^2/n)*sqrt(p(1-p)/n + z^2/(4n^2)); n0 = min n with h(n) <= d; "
          "n = ceil(n0*N/(n0+N-1)), at most N")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..cases.callbook import read_call_outcomes, write_callbacks

    if args.out.suffix.lower() != ".csv":
        raise InputError("the callbacks file is written as .csv", path=args.out)
    outcomes = read_call_outcomes(args.calls)
    path, kept, added = write_callbacks(outcomes, args.out, existing=args.existing)
    reached = sum(o.outcome == "reached" for o in outcomes)
    not_in_person = sum(o.sat_exam_in_person == "no" for o in outcomes)
    print(f"{path}: {kept} existing row(s) kept, {added} call(s) added ({reached} reached, {not_in_person} said they "
          f"did not sit in person); rerun `examaudit records --callbacks {path}` to update the exam point's risk")
    return 0
