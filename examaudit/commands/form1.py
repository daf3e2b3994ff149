"""``examaudit form1 --month YYYY-MM --cases CASES.csv --out FILE.xlsx``: the campaign's monthly 附表1."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from ..report.form1 import GROUPS, read_register, tabulate, typical_cases, write_form1, write_typical_cases


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "form1",
        help="the campaign's monthly statistics form 附表1 (.xlsx) from a case register",
        description="Tabulate a case register (CSV, one row per inspected unit: city, unit_type, unit_name, date, "
        "outcome, problems_found, problems_rectified, fine_wan, referred_police, certificates_revoked, summary) "
        "into the monthly 附表1 per city and unit type (企业 / 培训机构 / 考试机构). Cells the register cannot "
        "tell are left empty for manual entry. Column titles are a design: check them against the notice.",
    )
    p.add_argument("--month", required=True, help="the month to report, YYYY-MM")
    p.add_argument("--cases", type=Path, required=True, help="the case register CSV (UTF-8 or GBK)")
    p.add_argument("--out", type=Path, required=True, help="the form to write (.xlsx)")
    p.add_argument("--cases-out", type=Path, help="also write anonymised 典型案例 (.md or .docx)")
    p.add_argument("--typical", type=int, default=5, help="how many typical cases (default %(default)s)")
    p.add_argument("--unit", default="", help="填报单位 printed on the form")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".xlsx":
        raise InputError("the form is written as .xlsx", path=args.out)
    if args.cases_out is not None and args.cases_out.suffix.lower() not in (".md", ".docx"):
        raise InputError("typical cases are written as .md or .docx", path=args.cases_out)
    register = read_register(args.cases)
    form = tabulate(register, args.month)
    write_form1(form, args.out, reporting_unit=args.unit)
    inspected = {g: form.total(g, "inspected") for g in GROUPS}
    print(f"{args.out}: {form.month}, {len(form.cities)} cities, {form.cases_in_month} inspection(s) "
          + ", ".join(f"{g} {int(v or 0)}" for g, v in inspected.items()))
    if form.unknown_metrics:
        print("  left empty for manual entry: " + "、".join(form.unknown_metrics))
    if args.cases_out is not None:
        cases = typical_cases(register, args.month, limit=args.typical)
        write_typical_cases(cases, args.cases_out, args.month)
        print(f"{args.cases_out}: {len(cases)} typical case(s), anonymised")
    return 0
