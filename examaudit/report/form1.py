"""附表1 (工作情况统计表) and 附表2 (联络员报名回执表), laid out exactly as the notice prints them.

The notice (浙建管函〔2024〕315号) prints both forms at its end; ``tests/test_form1.py`` parses
that text and compares it with what is written here, cell by cell. What the notice prints:

* 附表1: the label ``附表1``; the title ``2024年____月份工作情况统计表`` (the month filled in);
  the line ``填报单位：_____ 填报人：_____ 联系方式：_____ 填报时间：_____``; a two-row header
  (序号, 地市, then three groups of 8, 3 and 3 columns); numbered rows, one per city; and the
  note ``备注：6月、8月、12月底前报送前2个月的进展情况。`` (the note omits October, which the
  notice's body names; it is printed as the notice prints it).
* 附表2: ``附表2``, ``联络员报名回执表`` and the columns 序号, 单位, 姓名, 联系电话, 备注.

Below the printed form one line states the period counted (the product's addition, so the
reader knows which cases are in it). Empty cells are unknown, never 0; the 说明 sheet lists
each with the reason. Counting lives in :mod:`examaudit.cases.tally`.

Example:
    >>> import tempfile
    >>> from examaudit.cases.tally import reporting_period, tally
    >>> t = tally([], reporting_period("2024-06"), cities=["杭州市"])
    >>> p = write_form1(t, Path(tempfile.mkdtemp()) / "f.xlsx")
    >>> from openpyxl import load_workbook
    >>> ws = load_workbook(p).worksheets[0]
    >>> ws["A2"].value, ws["C4"].value, ws["C6"].value
    ('2024年6月份工作情况统计表', '对企业执法检查情况', 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..cases.sheet import put
from ..cases.tally import FORM1_COLUMNS, FORM1_GROUPS, Form1Tally

FORM1_LABEL = "附表1"
FORM1_TITLE = "{year}年{month}月份工作情况统计表"  # printed: 2024年____月份工作情况统计表
FORM1_TITLE_BLANK = "2024年____月份工作情况统计表"
HEADER_FIELDS = ("填报单位", "填报人", "联系方式", "填报时间")
BLANK = "_____"
FORM1_NOTE = "备注：6月、8月、12月底前报送前2个月的进展情况。"
FORM2_LABEL = "附表2"
FORM2_TITLE = "联络员报名回执表"
FORM2_COLUMNS = ("序号", "单位", "姓名", "联系电话", "备注")


@dataclass(frozen=True)
class FormHeader:
    """The header line's four fields; empty ones are printed as the notice prints a blank."""

    unit: str = ""
    filler: str = ""
    contact: str = ""
    filled_on: str = ""

    def line(self) -> str:
        vals = (self.unit, self.filler, self.contact, self.filled_on)
        return " ".join(f"{k}：{v.strip() or BLANK}" for k, v in zip(HEADER_FIELDS, vals))


def header_rows() -> tuple[list[str | None], list[str | None]]:
    """附表1's two header rows as the sheet holds them (``None`` under a merged cell)."""
    top: list[str | None] = ["序号", "地市"]
    sub: list[str | None] = [None, None]
    for unit_type, title in FORM1_GROUPS:
        cols = [c.title for c in FORM1_COLUMNS if c.unit_type == unit_type]
        top += [title] + [None] * (len(cols) - 1)
        sub += cols
    return top, sub


def write_form1(t: Form1Tally, path: str | Path, header: FormHeader | None = None) -> Path:
    """Write 附表1 as ``.xlsx`` (A4 landscape, one page wide), via a temporary file."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    path = Path(path)
    header = header or FormHeader()
    wb = Workbook()
    ws = wb.active
    ws.title = FORM1_LABEL
    top, sub = header_rows()
    ncol = len(top)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)

    put(ws, 1, 1, FORM1_LABEL).font = Font(name="黑体", size=12)
    title = put(ws, 2, 1, FORM1_TITLE.format(year=t.period.year, month=t.period.month))
    title.font, title.alignment = Font(name="宋体", size=16, bold=True), center
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncol)
    ws.row_dimensions[2].height = 30
    put(ws, 3, 1, header.line()).alignment = left
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=ncol)
    for j, (a, b) in enumerate(zip(top, sub), start=1):
        put(ws, 4, j, a)
        put(ws, 5, j, b)
    ws.merge_cells("A4:A5")
    ws.merge_cells("B4:B5")
    j = 3
    for unit_type, _ in FORM1_GROUPS:
        n = sum(c.unit_type == unit_type for c in FORM1_COLUMNS)
        ws.merge_cells(start_row=4, start_column=j, end_row=4, end_column=j + n - 1)
        j += n
    r = 6
    for i, city in enumerate(t.cities, start=1):
        put(ws, r, 1, i)
        put(ws, r, 2, city)
        for j, v in enumerate(t.cells[city], start=3):
            put(ws, r, j, v)  # None stays an empty cell: unknown, for hand entry
        r += 1
    put(ws, r, 1, FORM1_NOTE).alignment = left
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
    note_row = r
    put(ws, r + 1, 1, f"统计期间：{t.period.label_zh()}（按检查日期计；完成整改按整改完成日期计）").alignment = left
    ws.merge_cells(start_row=r + 1, start_column=1, end_row=r + 1, end_column=ncol)

    for row in ws.iter_rows(min_row=4, max_row=note_row, max_col=ncol):
        for c in row:
            c.border = box
            if c.row < note_row:
                c.alignment = center
            if c.row <= 5:
                c.font = Font(bold=True)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 10
    for j in range(3, ncol + 1):
        ws.column_dimensions[get_column_letter(j)].width = 11
    ws.row_dimensions[5].height = 64
    ws.freeze_panes = "C6"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:5"

    note = wb.create_sheet("说明")
    lines = [f"统计期间：{t.period.label_zh()}" + ("（按 --period 指定）" if t.period.custom else
                                                  f"（{t.period.month}月报送，覆盖前2个月）"),
             f"计入案件 {t.counted} 件；期间外案件 {t.outside} 件未计入。",
             "空白单元格表示案件登记表无法确定该数值，需人工核实填写（不以0代替）。"]
    if t.unknown:
        lines.append(f"无法确定的单元格 {len(t.unknown)} 个：")
        lines += [u.text() for u in t.unknown]
    for i, line in enumerate(lines, start=1):
        put(note, i, 1, line)
    note.column_dimensions["A"].width = 100
    return _save(wb, path)


def write_form2(path: str | Path, rows: int = 1) -> Path:
    """Write 附表2 (联络员报名回执表) as the notice prints it: a blank form to fill in by hand."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = FORM2_LABEL
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    put(ws, 1, 1, FORM2_LABEL).font = Font(name="黑体", size=12)
    title = put(ws, 2, 1, FORM2_TITLE)
    title.font, title.alignment = Font(name="宋体", size=16, bold=True), center
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(FORM2_COLUMNS))
    for j, h in enumerate(FORM2_COLUMNS, start=1):
        put(ws, 3, j, h).font = Font(bold=True)
    for i in range(1, rows + 1):
        put(ws, 3 + i, 1, i)
    for row in ws.iter_rows(min_row=3, max_row=3 + rows, max_col=len(FORM2_COLUMNS)):
        for c in row:
            c.border, c.alignment = box, center
        ws.row_dimensions[row[0].row].height = 28
    for letter, width in zip("ABCDE", (8, 30, 14, 18, 20)):
        ws.column_dimensions[letter].width = width
    return _save(wb, path)


def _save(wb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    wb.save(tmp)
    tmp.replace(path)
    return path


def filled_today() -> str:
    d = date.today()
    return f"{d.year}年{d.month}月{d.day}日"
