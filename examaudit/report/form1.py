"""附表1: the campaign's monthly statistics form, and the anonymised 典型案例 (typical cases).

The campaign against forged construction special-operations certificates asks each province
to report every month, per city (地市), what enforcement inspections of enterprises (企业),
training institutions (培训机构) and exam institutions (考试机构) found and did. This module
turns a case register (one CSV row per inspected unit) into that form as an ``.xlsx``.

The notice's own column titles were not available when this was written: the titles in
:data:`METRICS` are a design that follows the issue's description and must be checked against
the notice before a form is filed (``docs``/README say so too).

Rules (pure functions, :func:`tabulate`):

* a register row counts in the month of its ``date``;
* every city in the register gets a row, even with no inspections that month;
* a metric whose source column is absent from the register is left **empty** for manual
  entry, in every city; a cell is also empty when all its rows leave that value blank;
* the 合计 row is an Excel ``SUM`` formula, so hand-entered cells are totalled too.

Example (``sample_media/cases.csv`` is a fuller register):
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "cases.csv").write_text(
    ...     "city,unit_type,unit_name,date,outcome,problems_found\\n"
    ...     "杭州市,企业,杭州丙建设工程有限公司,2024-06-18,罚款;限期整改,2\\n"
    ...     "宁波市,考试机构,宁波甲考点,2024-07-02,无问题,0\\n", encoding="utf-8")
    >>> reg = read_register(d / "cases.csv")
    >>> form = tabulate(reg, "2024-06")
    >>> form.cities, form.cases_in_month
    (['杭州市', '宁波市'], 1)
    >>> form.cells["杭州市"][("企业", "inspected")], form.cells["杭州市"][("企业", "ordered_rectify")]
    (1.0, 1.0)
    >>> form.cells["宁波市"][("考试机构", "inspected")], form.cells["杭州市"][("企业", "fine_wan")]
    (0.0, None)
    >>> write_form1(form, d / "附表1-2024-06.xlsx").name
    '附表1-2024-06.xlsx'
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable
from xml.sax.saxutils import escape

from ..errors import InputError
from ..outputs import neutralise

UNIT_TYPES = {  # canonical -> accepted spellings (after lower-casing)
    "企业": ("企业", "施工企业", "建筑施工企业", "enterprise", "company", "employer"),
    "培训机构": ("培训机构", "培训单位", "training", "training_institution", "trainer"),
    "考试机构": ("考试机构", "考点", "考核机构", "exam", "exam_institution", "exam_point", "examiner"),
}
GROUPS = list(UNIT_TYPES)

OUTCOMES = {
    "无问题": ("无问题", "未发现问题", "合格", "none", "no_problem", "ok"),
    "限期整改": ("限期整改", "责令限期整改", "整改", "rectify", "rectify_by_deadline", "deadline"),
    "停业整改": ("停业整改", "责令停业整改", "停止考试", "暂停考试", "suspend", "suspension", "suspended"),
    "移送公安机关": ("移送公安机关", "移送公安", "移送司法", "refer_police", "referred", "police"),
    "罚款": ("罚款", "行政处罚", "fine", "fined", "penalty"),
}


@dataclass(frozen=True)
class Metric:
    """One statistic per unit type. ``source`` is the register column it needs."""

    key: str
    title: str
    source: str
    how: str  # "units" (distinct units), "sum" (sum a column), "outcome:<name>" (distinct units with that outcome)
    fallback: str | None = None  # used when ``source`` is absent but ``outcome`` is present


#: The per-group columns, in order. DESIGNED, not copied from the notice: check the titles.
METRICS: tuple[Metric, ...] = (
    Metric("inspected", "检查数量（家）", "unit_name", "units"),
    Metric("problems_found", "发现问题（个）", "problems_found", "sum"),
    Metric("problems_rectified", "完成整改（个）", "problems_rectified", "sum"),
    Metric("ordered_rectify", "责令限期整改（家）", "outcome", "outcome:限期整改"),
    Metric("ordered_suspend", "责令停业整改（家）", "outcome", "outcome:停业整改"),
    Metric("fine_wan", "罚款金额（万元）", "fine_wan", "sum"),
    Metric("certificates_revoked", "撤销证书（本）", "certificates_revoked", "sum"),
    Metric("referred_police", "移送公安机关（起）", "referred_police", "sum", "outcome:移送公安机关"),
)
TITLE = "附表1  打击建筑施工特种作业操作证书假证专项行动执法检查情况统计表"

# Register columns: canonical name -> accepted headers (normalised: lower case, no spaces/brackets).
COLUMNS: dict[str, tuple[str, ...]] = {
    "city": ("city", "地市", "城市", "市", "设区市", "所属地市"),
    "unit_type": ("unit_type", "单位类型", "类型", "检查对象类型", "type"),
    "unit_name": ("unit_name", "单位名称", "被检查单位", "名称", "unit", "name"),
    "date": ("date", "检查日期", "日期", "检查时间", "inspected_at", "inspection_date"),
    "outcome": ("outcome", "处理结果", "处理情况", "处理措施", "result"),
    "problems_found": ("problems_found", "发现问题数", "发现问题", "问题数", "problems"),
    "problems_rectified": ("problems_rectified", "整改问题数", "已整改问题数", "完成整改", "rectified"),
    "fine_wan": ("fine_wan", "罚款金额万元", "罚款万元", "罚款金额", "fine"),
    "referred_police": ("referred_police", "移送公安机关", "移送公安", "移送公安机关起", "police"),
    "certificates_revoked": ("certificates_revoked", "撤销证书数", "撤销证书", "注销证书数", "revoked"),
    "summary": ("summary", "案情摘要", "主要问题", "问题描述", "案情", "description"),
    "notes": ("notes", "备注", "remarks"),
}
REQUIRED = ("city", "unit_type", "unit_name", "date")
NUMERIC = ("problems_found", "problems_rectified", "fine_wan", "referred_police", "certificates_revoked")


def _norm(h: str) -> str:
    return re.sub(r"[\s_\-（）()【】\[\]:：]", "", h.strip().lower().replace("\ufeff", ""))


_HEADER_INDEX = {_norm(a): name for name, aliases in COLUMNS.items() for a in aliases}
_TYPE_INDEX = {_norm(a): t for t, aliases in UNIT_TYPES.items() for a in aliases}
_OUTCOME_INDEX = {_norm(a): o for o, aliases in OUTCOMES.items() for a in aliases}


@dataclass(frozen=True)
class Case:
    """One register row, validated. ``None`` means the cell was left blank."""

    row: int
    city: str
    unit_type: str
    unit_name: str
    date: date
    outcomes: frozenset[str]
    values: dict[str, float | None]
    summary: str = ""


@dataclass
class Register:
    path: Path
    columns: set[str]
    cases: list[Case]

    @property
    def cities(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.cases:
            seen.setdefault(c.city, None)
        return list(seen)


def _parse_date(s: str) -> date:
    s = s.strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", s)
    if not m:
        raise ValueError(f"{s!r} is not a date like 2024-06-20")
    return date(int(m[1]), int(m[2]), int(m[3]))


def _parse_number(s: str, col: str) -> float | None:
    s = s.strip().replace(",", "")
    if s == "":
        return None
    if col == "referred_police":
        yes = {"是": 1.0, "yes": 1.0, "y": 1.0, "true": 1.0, "否": 0.0, "no": 0.0, "n": 0.0, "false": 0.0}
        if s.lower() in yes:
            return yes[s.lower()]
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"{s!r} is not a number") from None
    if v < 0:
        raise ValueError(f"{s!r} is negative")
    return v


def _parse_outcomes(s: str) -> frozenset[str]:
    out = set()
    for part in re.split(r"[;；、,，/+]", s):
        if not part.strip():
            continue
        o = _OUTCOME_INDEX.get(_norm(part))
        if o is None:
            raise ValueError(f"{part.strip()!r} is not an outcome ({' / '.join(OUTCOMES)})")
        out.add(o)
    return frozenset(out)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("not UTF-8 or GBK text", path=path)


def read_register(path: str | Path) -> Register:
    """Read and validate a case register CSV.

    Raises:
        InputError: missing file or columns, or bad rows; the message names the file, the row
            number as a spreadsheet shows it (header = row 1) and the column, for up to 5 rows.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("case register not found", path=path)
    rows = list(csv.reader(_read_text(path).splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputError("empty file: expected a header row (city, unit_type, unit_name, date, ...)", path=path)
    header = [_HEADER_INDEX.get(_norm(h)) for h in rows[0]]
    present = {h for h in header if h}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; header is {', '.join(rows[0])}", path=path)
    problems: list[str] = []
    cases: list[Case] = []
    for n, raw in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in raw):
            continue
        cell = {h: (raw[i] if i < len(raw) else "") for i, h in enumerate(header) if h}
        try:
            for col in REQUIRED:
                if not cell[col].strip():
                    raise ValueError(f"column {col}: empty")
            col = "unit_type"
            utype = _TYPE_INDEX.get(_norm(cell["unit_type"]))
            if utype is None:
                raise ValueError(f"{cell['unit_type']!r} is not one of {' / '.join(GROUPS)}")
            col = "date"
            when = _parse_date(cell["date"])
            col = "outcome"
            outcomes = _parse_outcomes(cell.get("outcome", ""))
            values: dict[str, float | None] = {}
            for col in NUMERIC:
                if col in cell:
                    values[col] = _parse_number(cell[col], col)
        except ValueError as exc:
            msg = str(exc)
            problems.append(f"row {n}: {msg}" if msg.startswith("column") else f"row {n}, column {col}: {msg}")
            continue
        cases.append(Case(n, cell["city"].strip(), utype, cell["unit_name"].strip(), when, outcomes, values,
                          cell.get("summary", "").strip()))
    if problems:
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        raise InputError("; ".join(problems[:5]) + more, path=path)
    return Register(path, present, cases)


# ------------------------------------------------------------------------------ tabulation


@dataclass
class Form1:
    """The form's content: one row per city, cells keyed (group, metric key); None = manual entry."""

    month: str
    cities: list[str]
    cells: dict[str, dict[tuple[str, str], float | None]]
    cases_in_month: int
    unknown_metrics: list[str] = field(default_factory=list)

    def total(self, group: str, key: str) -> float | None:
        vals = [self.cells[c][(group, key)] for c in self.cities]
        known = [v for v in vals if v is not None]
        return sum(known) if known else None


def _month_bounds(month: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise InputError(f"--month must look like 2024-06, got {month!r}")
    return int(m[1]), int(m[2])


def _metric_value(metric: Metric, cases: list[Case], columns: set[str]) -> float | None:
    if metric.source not in columns:
        if metric.fallback and "outcome" in columns:
            return _metric_value(Metric(metric.key, metric.title, "outcome", metric.fallback), cases, columns)
        return None
    if metric.how == "units":
        return float(len({c.unit_name for c in cases}))
    if metric.how.startswith("outcome:"):
        want = metric.how.split(":", 1)[1]
        return float(len({c.unit_name for c in cases if want in c.outcomes}))
    vals = [c.values.get(metric.source) for c in cases]
    if cases and all(v is None for v in vals):
        return None  # every row left it blank: unknown, not zero
    return float(sum(v for v in vals if v is not None))


def tabulate(register: Register, month: str) -> Form1:
    """Count the register's cases of ``month`` (``YYYY-MM``) per city and unit type."""
    year, mon = _month_bounds(month)
    in_month = [c for c in register.cases if c.date.year == year and c.date.month == mon]
    cells: dict[str, dict[tuple[str, str], float | None]] = {}
    for city in register.cities:
        row: dict[tuple[str, str], float | None] = {}
        for group in GROUPS:
            cases = [c for c in in_month if c.city == city and c.unit_type == group]
            for metric in METRICS:
                row[(group, metric.key)] = _metric_value(metric, cases, register.columns)
        cells[city] = row
    unknown = [m.title for m in METRICS
               if m.source not in register.columns and not (m.fallback and "outcome" in register.columns)]
    return Form1(f"{year:04d}-{mon:02d}", register.cities, cells, len(in_month), unknown)


def header_rows() -> tuple[list[str], list[str]]:
    """The two header rows as flat lists (group titles repeated over their span)."""
    top = ["序号", "地市"]
    sub = ["序号", "地市"]
    for group in GROUPS:
        top += [group] * len(METRICS)
        sub += [m.title for m in METRICS]
    return top + ["备注"], sub + ["备注"]


def write_form1(form: Form1, path: str | Path, *, reporting_unit: str = "", filled_on: date | None = None) -> Path:
    """Write the form as an ``.xlsx`` ready to print (A4 landscape, fitted to one page wide)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "附表1"
    top, sub = header_rows()
    ncol = len(sub)
    last = get_column_letter(ncol)
    year, mon = _month_bounds(form.month)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    ws.append([f"{TITLE}（{year}年{mon}月）"])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name="宋体", size=16, bold=True)
    ws["A1"].alignment = center
    ws.row_dimensions[1].height = 32
    filled = filled_on or date.today()
    ws.append([f"填报单位（盖章）：{reporting_unit}"] + [None] * (ncol - 9)
              + [f"填报日期：{filled.year}年{filled.month}月{filled.day}日"])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncol - 8)
    ws.merge_cells(start_row=2, start_column=ncol - 7, end_row=2, end_column=ncol)
    ws.append(top)
    ws.append(sub)
    # Two-row header: 序号, 地市, 备注 span both rows; each group title spans its metrics.
    for c in (1, 2, ncol):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    col = 3
    for _group in GROUPS:
        ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + len(METRICS) - 1)
        col += len(METRICS)
    first_data = 5
    for i, city in enumerate(form.cities, start=1):
        row: list[Any] = [i, neutralise(city)]  # the city's name is text from the register
        for group in GROUPS:
            for m in METRICS:
                v = form.cells[city][(group, m.key)]
                row.append(None if v is None else (int(v) if float(v).is_integer() else round(v, 4)))
        ws.append(row + [None])
    last_data = first_data + len(form.cities) - 1
    total: list[Any] = [None, "合计"]
    for c in range(3, ncol):
        letter = get_column_letter(c)
        total.append(f"=SUM({letter}{first_data}:{letter}{last_data})" if form.cities else 0)
    ws.append(total + [None])
    for r in ws.iter_rows(min_row=3, max_row=ws.max_row, max_col=ncol):
        for cell in r:
            cell.border = box
            cell.alignment = center
            if cell.row <= 4 or cell.row == ws.max_row:
                cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 10
    for c in range(3, ncol):
        ws.column_dimensions[get_column_letter(c)].width = 9
    ws.column_dimensions[last].width = 14
    ws.row_dimensions[4].height = 48
    ws.freeze_panes = "C5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:4"
    note = wb.create_sheet("说明")
    note.append(["本表由 examaudit 根据案件登记表生成。空白单元格表示登记表中没有该项数据，需人工填写；合计行为公式。"])
    note.append(["栏目名称依据专项行动通知的描述设计，报送前请与通知原表核对。"])
    if form.unknown_metrics:
        note.append(["登记表缺少以下栏目的数据：" + "、".join(form.unknown_metrics)])
    note.append([f"{form.month} 共计入检查记录 {form.cases_in_month} 条。"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    wb.save(tmp)
    tmp.replace(path)
    return path


# ---------------------------------------------------------------------------- typical cases

_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
_PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_SEVERITY = {"移送公安机关": 3, "停业整改": 2, "罚款": 1, "限期整改": 0}


@dataclass(frozen=True)
class TypicalCase:
    city: str
    unit: str  # masked, e.g. 某考试机构
    unit_type: str
    month: str
    outcome: str
    text: str


def scrub(text: str, names: Iterable[str]) -> str:
    """Remove personal data and unit names from free text: ID numbers, mobile numbers, names."""
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        text = text.replace(name, "某单位")
    text = _ID_RE.sub("[身份证号已隐去]", text)
    return _PHONE_RE.sub("[电话已隐去]", text)


def typical_cases(register: Register, month: str, *, limit: int = 5) -> list[TypicalCase]:
    """The month's most serious cases, anonymised for publication.

    Chosen by outcome (移送公安机关 > 停业整改 > 罚款 > 限期整改), then problems found. Unit
    names become 「某企业 / 某培训机构 / 某考试机构」 (numbered when a city has several); the
    free-text summary is scrubbed of every unit name in the register, ID and phone numbers.
    Person names in free text cannot be recognised reliably: write summaries with 某某.
    """
    year, mon = _month_bounds(month)
    chosen = [c for c in register.cases if c.date.year == year and c.date.month == mon and (c.outcomes - {"无问题"})]
    chosen.sort(key=lambda c: (-max((_SEVERITY.get(o, 0) for o in c.outcomes), default=0),
                               -(c.values.get("problems_found") or 0), c.row))
    names = [c.unit_name for c in register.cases]
    out: list[TypicalCase] = []
    count: dict[tuple[str, str], int] = {}
    for c in chosen[:limit]:
        k = (c.city, c.unit_type)
        count[k] = count.get(k, 0) + 1
        unit = f"某{c.unit_type}" if count[k] == 1 else f"某{c.unit_type}（{count[k]}）"
        outcome = "、".join(sorted(c.outcomes, key=lambda o: -_SEVERITY.get(o, 0)))
        facts = []
        if c.values.get("problems_found"):
            facts.append(f"发现问题 {int(c.values['problems_found'])} 个")
        if c.values.get("fine_wan"):
            facts.append(f"罚款 {c.values['fine_wan']:g} 万元")
        if c.values.get("certificates_revoked"):
            facts.append(f"撤销证书 {int(c.values['certificates_revoked'])} 本")
        if c.values.get("referred_police"):
            facts.append(f"移送公安机关 {int(c.values['referred_police'])} 起")
        text = f"{c.date.year}年{c.date.month}月，{c.city}住房城乡建设主管部门对{c.city}{unit}开展执法检查。"
        if c.summary:
            text += scrub(c.summary, names).rstrip("。") + "。"
        text += f"处理结果：{outcome}" + (f"（{'，'.join(facts)}）" if facts else "") + "。"
        out.append(TypicalCase(c.city, unit, c.unit_type, f"{year:04d}-{mon:02d}", outcome, text))
    return out


def write_typical_cases(cases: list[TypicalCase], path: str | Path, month: str) -> Path:
    """Write typical cases as Markdown (``.md``) or a plain Word document (``.docx``)."""
    path = Path(path)
    year, mon = _month_bounds(month)
    title = f"打击建筑施工特种作业操作证书假证专项行动典型案例（{year}年{mon}月）"
    paras = [(f"案例{i}：{c.city}{c.unit}{c.outcome}", c.text) for i, c in enumerate(cases, start=1)]
    if not paras:
        paras = [("", "本月无可公开的典型案例。")]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".md":
        body = [f"# {title}", ""]
        for head, text in paras:
            body += ([f"## {head}", ""] if head else []) + [text, ""]
        path.write_text("\n".join(body), encoding="utf-8")
    elif path.suffix.lower() == ".docx":
        _write_docx(path, title, paras)
    else:
        raise InputError("typical cases are written as .md or .docx", path=path)
    return path


def _write_docx(path: Path, title: str, paras: list[tuple[str, str]]) -> None:
    """A minimal WordprocessingML file: title, headings and paragraphs, no dependency needed."""

    def p(text: str, *, bold: bool = False, size: int = 24, center: bool = False) -> str:
        ppr = '<w:pPr><w:jc w:val="center"/></w:pPr>' if center else ""
        rpr = (f'<w:rPr><w:rFonts w:ascii="SimSun" w:eastAsia="SimSun" w:hAnsi="SimSun"/>'
               f'{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/></w:rPr>')
        return f'<w:p>{ppr}<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    body = p(title, bold=True, size=32, center=True)
    for head, text in paras:
        if head:
            body += p(head, bold=True, size=28)
        body += p(text)
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {ns}><w:body>{body}</w:body></w:document>'
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("word/document.xml", document)
