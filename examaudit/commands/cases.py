"""``examaudit cases import|export|list|typical|bulletin``: the case register in the server's data folder."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import InputError
from .serve import add_data_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cases", help="the case register (案件): import/export CSV or xlsx, 典型案例, quarterly bulletin",
                       description="The case register kept in the audit server's data folder (--data, as `examaudit "
                       "serve`). A bureau brings its Excel register with `cases import`; `examaudit form1 --data DIR` "
                       "counts it into 附表1. See docs/cases.md.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(p))
    im = verbs.add_parser("import", help="read a register (.csv or .xlsx) into the database (by 案件编号)")
    im.add_argument("register", type=Path)
    im.add_argument("--problems", type=Path, help="problems in detail (default: the 问题 sheet, or <stem>.problems.csv)")
    im.add_argument("--by", default="cli", help="recorded as who imported (default %(default)s)")
    ex = verbs.add_parser("export", help="write the register (.xlsx with sheets 案件 and 问题, or .csv + .problems.csv)")
    ex.add_argument("out", type=Path)
    ex.add_argument("--city", help="only this city's cases")
    ls = verbs.add_parser("list", help="list cases, overdue rectifications marked")
    ls.add_argument("--city", help="only this city's cases")
    ty = verbs.add_parser("typical", help="典型案例 of a closed case (.docx or .md), anonymised")
    ty.add_argument("case_id")
    ty.add_argument("--out", type=Path, required=True)
    bu = verbs.add_parser("bulletin", help="一季度一通报: the quarter's closed cases grouped by type (.docx or .md)")
    bu.add_argument("--quarter", required=True, help="e.g. 2024Q3 (cases closed in that quarter)")
    bu.add_argument("--city", help="only this city's cases")
    bu.add_argument("--out", type=Path, required=True)
    for v in (im, ex, ls, ty, bu):
        add_data_option(v)
        v.set_defaults(run=run)


def _open(args):
    from ..server.db import Database, migrate
    from ..server.settings import Settings

    settings = Settings.from_env(args.data)
    migrate(settings.database_url)
    return settings, Database(settings.database_url)


def run(args: argparse.Namespace) -> int:
    from datetime import date

    from ..cases.register import read_register, write_register
    from ..server.services import cases as svc

    if args.verb in ("typical", "bulletin") and args.out.suffix.lower() not in (".docx", ".md"):
        raise InputError("typical cases are written as .docx or .md", path=args.out)
    if args.verb == "import":
        reg = read_register(args.register, args.problems)  # bad input stops here, before the database
    settings, db = _open(args)
    try:
        with db.session() as s:
            if args.verb == "import":
                added, updated = svc.import_register(s, reg, args.by)
                print(f"{args.register}: {added} case(s) added, {updated} updated ({len(reg.cases)} in the register)")
            elif args.verb == "export":
                cases = svc.all_cases(s, args.city)
                write_register(cases, args.out)
                print(f"{args.out}: {len(cases)} case(s)")
            elif args.verb == "list":
                from ..server.models_cases import CaseRow
                from sqlalchemy import select

                q = select(CaseRow).order_by(CaseRow.inspected_on, CaseRow.id)
                if args.city:
                    q = q.where(CaseRow.city == args.city)
                for row in s.scalars(q):
                    v = svc.case_view(row, date.today())
                    flag = f"  逾期 {v['overdue']} 项" if v["overdue"] else ""
                    print(f"{v['case_id']}\t{v['inspected_on']}\t{v['city']}\t{v['unit_type']}\t{v['unit_name']}\t"
                          f"{v['outcome_text'] or '未处理'}\t{'已结案' if v['closed_on'] else '办理中'}{flag}")
            else:
                _typical(args, s, settings, svc)
    finally:
        db.engine.dispose()
    return 0


def _typical(args, s, settings, svc) -> None:
    from fastapi import HTTPException
    from sqlalchemy import select

    from ..cases.typical import bulletin_cases, write_docx, write_markdown
    from ..server.models_cases import CaseRow

    write = write_docx if args.out.suffix.lower() == ".docx" else write_markdown
    try:
        if args.verb == "typical":
            row = s.scalar(select(CaseRow).where(CaseRow.case_id == args.case_id))
            if row is None:
                raise InputError(f"no case {args.case_id!r} in the register", path=args.data)
            tc = svc.typical_for(s, settings, row)
            write([tc], args.out, f"典型案例：{tc.title}")
            print(f"{args.out}: 典型案例 {tc.title}; {len(tc.frames)} evidence frame(s), {tc.blurred_people} person box(es) blurred")
            return
        m = re.fullmatch(r"(\d{4})Q([1-4])", args.quarter.strip().upper())
        if not m:
            raise InputError(f"--quarter must look like 2024Q3, got {args.quarter!r}")
        year, q = int(m[1]), int(m[2])
        rows = [r for r in s.scalars(select(CaseRow).order_by(CaseRow.closed_on, CaseRow.id))
                if r.closed_on and r.closed_on.year == year and (r.closed_on.month - 1) // 3 + 1 == q
                and (not args.city or r.city == args.city)]
        cases = bulletin_cases([svc.typical_for(s, settings, r) for r in rows])
        write(cases, args.out, f"{args.city or '全省'}房屋市政工程领域安全生产资格证书涉假典型案例通报（{year}年第{q}季度）")
        kinds = sorted({c.case_type for c in cases})
        print(f"{args.out}: {len(cases)} closed case(s) of {year}Q{q}, grouped by type: {'、'.join(kinds) or 'none'}")
    except HTTPException as exc:
        raise InputError(str(exc.detail)) from None
