"""``examaudit form1`` (附表1 from a case register) and ``examaudit form2`` (blank 附表2)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "form1",
        help="附表1 工作情况统计表 (.xlsx) from a case register, for a reporting period",
        description="Count a case register (CSV or xlsx; or the server's database with --data) into 附表1 as the "
        "notice 浙建管函〔2024〕315号 prints it. Reports are due before the end of June, August, October and "
        "December, each covering the two months before: --month picks the report; --period START..END counts "
        "another span. Cells the register cannot tell are left empty and listed, never written as 0.",
    )
    p.add_argument("--month", help="the report's month, YYYY-MM (06, 08, 10 or 12 unless --period is given)")
    p.add_argument("--period", help="count cases inspected from START to END, e.g. 2024-05-01..2024-06-30")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--cases", type=Path, help="the case register (.csv or .xlsx)")
    src.add_argument("--data", type=Path, help="the server's data folder: count the register kept there")
    p.add_argument("--problems", type=Path, help="problems in detail, when not in the workbook's 问题 sheet "
                   "or beside the CSV as <stem>.problems.csv")
    p.add_argument("--city", action="append", default=[], help="only this city (repeatable); default every city")
    p.add_argument("--out", type=Path, required=True, help="the form to write (.xlsx)")
    p.add_argument("--unit", default="", help="填报单位")
    p.add_argument("--filler", default="", help="填报人")
    p.add_argument("--contact", default="", help="联系方式")
    p.add_argument("--filled-on", default="", help="填报时间 (printed as given)")
    p.set_defaults(run=run)

    q = sub.add_parser("form2", help="附表2 联络员报名回执表 (.xlsx), blank as printed",
                       description="Write 附表2 (联络员报名回执表) exactly as the notice prints it, for hand entry.")
    q.add_argument("--out", type=Path, required=True, help="the form to write (.xlsx)")
    q.add_argument("--rows", type=int, default=1, help="numbered rows to print (default %(default)s, as printed)")
    q.set_defaults(run=run_form2)


def run(args: argparse.Namespace) -> int:
    from ..cases.tally import reporting_period, tally
    from ..report.form1 import FormHeader, write_form1

    if args.out.suffix.lower() != ".xlsx":
        raise InputError("the form is written as .xlsx", path=args.out)
    period = reporting_period(args.month, args.period)
    if args.data is not None:
        from ..server.services.cases import cases_from_data_dir

        cases, columns, source = cases_from_data_dir(args.data), None, args.data
    else:
        from ..cases.register import read_register

        reg = read_register(args.cases, args.problems)
        cases, columns, source = reg.cases, reg.columns, args.cases
    cities = args.city or None
    if cities:
        unknown = [c for c in cities if c not in {x.city for x in cases}]
        if unknown:
            raise InputError(f"--city {'、'.join(unknown)}: not in the register", path=source)
    t = tally(cases, period, columns=columns, cities=cities)
    write_form1(t, args.out, FormHeader(args.unit, args.filler, args.contact, args.filled_on))
    print(f"{args.out}: 附表1 {period.year}年{period.month}月份, period {period.label()} "
          f"({'--period' if period.custom else 'the two months before the report'}); {len(t.cities)} city row(s); "
          f"{t.counted} case(s) counted, {t.outside} outside the period not counted")
    if t.unknown:
        print(f"  {len(t.unknown)} cell(s) left empty (unknown from the register, fill in by hand):")
        for u in t.unknown:
            print(f"    {u.text()}")
    else:
        print("  every cell computed from the register")
    return 0


def run_form2(args: argparse.Namespace) -> int:
    from ..report.form1 import write_form2

    if args.out.suffix.lower() != ".xlsx":
        raise InputError("the form is written as .xlsx", path=args.out)
    if args.rows < 1:
        raise InputError("--rows must be at least 1")
    write_form2(args.out, rows=args.rows)
    print(f"{args.out}: 附表2 联络员报名回执表 (blank)")
    return 0
