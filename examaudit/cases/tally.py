"""附表1 counting: which period a report covers, and every cell from the case register.

The notice (浙建管函〔2024〕315号, 五、(三)) asks each city to report before the end of June,
August, October and December, and the form's 备注 says each report covers the two months
before it. So the report of month M covers the first day of M-1 to the last day of M, and the
four reports tile May to December without gap or overlap. A case counts in the report whose
period holds its inspection date; a rectification counts in the period in which it was done
(or, when the register only says "rectified", in its case's period).

A cell the register cannot know stays ``None`` (written empty, listed with the reason); it is
never 0. Zero means the register says zero.

Example:
    >>> from datetime import date
    >>> from .model import Case, Problem
    >>> p = reporting_period("2024-06")
    >>> p.start, p.end
    (datetime.date(2024, 5, 1), datetime.date(2024, 6, 30))
    >>> cases = [Case("1", "杭州市", "", "企业", "甲公司", date(2024, 6, 3), outcomes=frozenset({"罚款"}),
    ...               problems=[Problem("无证上岗")]),
    ...          Case("2", "杭州市", "", "企业", "乙公司", date(2024, 7, 3), outcomes=frozenset({"无问题"}), problems=[])]
    >>> t = tally(cases, p, columns={"outcome", "fine_wan"})
    >>> t.value("杭州市", "企业", "inspected"), t.value("杭州市", "企业", "fine_wan"), t.counted, t.outside
    (1, None, 1, 1)
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from ..errors import InputError
from .model import Case

#: the months the notice asks for a report (before the end of each)
REPORT_MONTHS = (6, 8, 10, 12)
#: Zhejiang's 11 设区市 in the province's usual order; other cities follow in register order.
CITY_ORDER = ("杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市", "丽水市")


@dataclass(frozen=True)
class FormColumn:
    unit_type: str
    key: str
    title: str  # as the notice prints it


#: 附表1's groups and columns, in the notice's wording and order.
FORM1_GROUPS: tuple[tuple[str, str], ...] = (
    ("企业", "对企业执法检查情况"),
    ("培训机构", "对培训机构执法检查情况"),
    ("考试机构", "对考试机构执法检查情况"),
)
FORM1_COLUMNS: tuple[FormColumn, ...] = (
    FormColumn("企业", "inspected", "开展执法检查的企业数量(家)"),
    FormColumn("企业", "unlicensed", "查出无证、假证人员数量(人)"),
    FormColumn("企业", "problems", "查出企业问题总数(项)"),
    FormColumn("企业", "rectify_units", "限期整改的企业数量(家)"),
    FormColumn("企业", "suspend_units", "停业整顿的企业数量(家)"),
    FormColumn("企业", "fine_wan", "罚款金额(万元)"),
    FormColumn("企业", "rectified", "完成整改的问题数量(项)"),
    FormColumn("企业", "clues", "涉嫌犯罪的问题线索移交数量(项)"),
    FormColumn("培训机构", "inspected", "开展执法检查的培训机构数量(家)"),
    FormColumn("培训机构", "rectify_units", "限期整改的培训机构数量(家)"),
    FormColumn("培训机构", "rectified", "完成整改的问题数量(项)"),
    FormColumn("考试机构", "inspected", "开展执法检查的考试机构数量(家)"),
    FormColumn("考试机构", "rectify_units", "限期整改的考试机构数量(家)"),
    FormColumn("考试机构", "rectified", "完成整改的问题数量(项)"),
)


@dataclass(frozen=True)
class ReportPeriod:
    """The report of ``year``-``month`` and the inspection dates it covers (both ends included)."""

    year: int
    month: int
    start: date
    end: date
    custom: bool = False

    def __contains__(self, d: date) -> bool:
        return self.start <= d <= self.end

    def label_zh(self) -> str:
        return f"{self.start.year}年{self.start.month}月{self.start.day}日至{self.end.year}年{self.end.month}月{self.end.day}日"

    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def _month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*", str(text))
    if not m or not 1 <= int(m[2]) <= 12:
        raise InputError(f"--month must look like 2024-06, got {text!r}")
    return int(m[1]), int(m[2])


def _period(text: str) -> tuple[date, date]:
    from .model import parse_date

    parts = re.split(r"\.\.|~|至", str(text))
    if len(parts) != 2:
        raise InputError(f"--period must look like 2024-05-01..2024-06-30, got {text!r}")
    try:
        start, end = parse_date(parts[0]), parse_date(parts[1])
    except ValueError as exc:
        raise InputError(f"--period: {exc}") from None
    if end < start:
        raise InputError(f"--period ends ({end}) before it starts ({start})")
    return start, end


def reporting_period(month: str | None, period: str | None = None) -> ReportPeriod:
    """The period a report covers: the notice's two months, or ``period`` (START..END) when given.

    Raises:
        InputError: a month that is not a reporting month (June, August, October, December)
            without ``period``; malformed month or period.
    """
    if period:
        start, end = _period(period)
        year, mon = _month(month) if month else (end.year, end.month)
        return ReportPeriod(year, mon, start, end, custom=True)
    if not month:
        raise InputError("give --month (a reporting month, e.g. 2024-06) or --period START..END")
    year, mon = _month(month)
    if mon not in REPORT_MONTHS:
        raise InputError(
            f"{year}-{mon:02d} is not a reporting month: the notice asks for 附表1 before the end of June, August, "
            f"October and December, each covering the two months before; give --period START..END to report "
            f"another span")
    start = date(year, mon - 1, 1)
    end = date(year, mon, calendar.monthrange(year, mon)[1])
    return ReportPeriod(year, mon, start, end)


@dataclass(frozen=True)
class UnknownCell:
    city: str
    title: str
    why: str

    def text(self) -> str:
        return f"{self.city}·{self.title}：{self.why}"


@dataclass
class Form1Tally:
    """附表1's content. ``cells[city][j]`` is column ``FORM1_COLUMNS[j]`` (``None`` = unknown)."""

    period: ReportPeriod
    cities: list[str]
    cells: dict[str, list[float | int | None]]
    counted: int
    outside: int
    unknown: list[UnknownCell] = field(default_factory=list)

    def value(self, city: str, unit_type: str, key: str) -> float | int | None:
        j = next(i for i, c in enumerate(FORM1_COLUMNS) if c.unit_type == unit_type and c.key == key)
        return self.cells[city][j]


def order_cities(cities: list[str]) -> list[str]:
    known = [c for c in CITY_ORDER if c in cities]
    return known + [c for c in dict.fromkeys(cities) if c not in CITY_ORDER]


def _sum(values: list[float | int | None]) -> float | int | None:
    if any(v is None for v in values):
        return None
    total = sum(values)
    return int(total) if float(total).is_integer() else round(float(total), 4)


def tally(cases: list[Case], period: ReportPeriod, *, columns: set[str] | None = None,
          cities: list[str] | None = None) -> Form1Tally:
    """Count the cases of ``period`` per city into 附表1's 14 columns.

    ``columns`` names the register columns that were present (an imported register); ``None``
    means every column is known (cases kept in the database). Rows are the given ``cities``,
    else every city in the register.
    """
    has = (lambda name: True) if columns is None else (lambda name: name in columns)
    rows = order_cities(cities if cities is not None else [c.city for c in cases])
    wanted = set(rows)
    inside = [c for c in cases if c.inspected_on in period and c.city in wanted]
    outside = sum(1 for c in cases if c.city in wanted and c.inspected_on not in period)
    cells: dict[str, list] = {}
    unknown: list[UnknownCell] = []
    for city in rows:
        row: list = []
        for col in FORM1_COLUMNS:
            group = [c for c in inside if c.city == city and c.unit_type == col.unit_type]
            v, why = _cell(col.key, group, [c for c in cases if c.city == city and c.unit_type == col.unit_type],
                           period, has)
            row.append(v)
            if v is None:
                unknown.append(UnknownCell(city, f"{col.unit_type}·{col.title}", why))
        cells[city] = row
    return Form1Tally(period, rows, cells, len(inside), outside, unknown)


def _cell(key: str, cs: list[Case], every: list[Case], period: ReportPeriod, has) -> tuple[float | int | None, str]:
    if key == "inspected":
        return len({c.unit_name for c in cs}), ""
    if key in ("rectify_units", "suspend_units"):
        if not has("outcome"):
            return None, "登记表没有处理结果栏"
        want = "限期整改" if key == "rectify_units" else "停业整顿"
        return len({c.unit_name for c in cs if want in c.outcomes}), ""
    if key == "fine_wan":
        vals = []
        for c in cs:
            if c.fine_wan is not None:
                vals.append(c.fine_wan)
            elif has("outcome") and "罚款" not in c.outcomes:
                vals.append(0)
            else:
                return None, f"{c.unit_name}（{c.inspected_on}）处罚款但未填金额" if "罚款" in c.outcomes \
                    else f"{c.unit_name}（{c.inspected_on}）未填罚款金额，登记表也没有处理结果栏"
        return _sum(vals), ""
    if key == "unlicensed":
        vals = []
        for c in cs:
            if c.unlicensed_persons is not None:
                vals.append(c.unlicensed_persons)
            elif c.outcomes == {"无问题"}:
                vals.append(0)
            else:
                return None, f"{c.unit_name}（{c.inspected_on}）未填查出无证、假证人员数"
        return _sum(vals), ""
    if key == "problems":
        vals = []
        for c in cs:
            if c.problem_count() is None:
                return None, f"{c.unit_name}（{c.inspected_on}）未填发现问题数"
            vals.append(c.problem_count())
        return _sum(vals), ""
    if key == "clues":
        vals = []
        for c in cs:
            if c.referred_clues is not None:
                vals.append(c.referred_clues)
            elif has("outcome"):
                vals.append(1 if "移送公安机关" in c.outcomes else 0)
            else:
                return None, f"{c.unit_name}（{c.inspected_on}）未填移交线索数"
        return _sum(vals), ""
    if key == "rectified":
        n = 0
        for c in every:
            if c.problems is None:
                if c.inspected_on in period:
                    return None, f"{c.unit_name}（{c.inspected_on}）未填问题与整改情况"
                continue
            for p in c.problems:
                if p.done_on is not None:
                    n += p.done_on in period
                elif p.rectified is None:
                    if c.inspected_on in period:
                        return None, f"{c.unit_name}（{c.inspected_on}）未填完成整改问题数"
                elif p.rectified:
                    n += c.inspected_on in period  # done, date unknown: counted with its case
        return n, ""
    raise KeyError(key)
