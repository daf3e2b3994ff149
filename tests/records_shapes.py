"""Spreadsheets shaped the way exam institutions and bureaus export them, made from plain CSV.

Each builder takes a header and rows (strings, as the sample CSV has them) and writes one
file the way Excel or WPS would: openpyxl with number formats, merged title cells, several
sheets, a hidden sheet, numbers typed as numbers, an HTML table or a CSV renamed ``.xls``, and
a real BIFF8 ``.xls`` (written to the spec by :mod:`tests.biff8`, as no locked package writes
BIFF). The regression tests and the checker's criterion (same candidates as the CSV, no extra
``invalid_id_number``) run over all of them.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

TITLE = "2024年6月建筑施工特种作业人员安全技术考核考生名单"
UNIT = "填报单位（盖章）：某市建设工程安全监督站        填报日期：2024年6月21日"

#: Columns Excel types as numbers when a clerk pastes them (IDs, phones, seats, scores).
NUMERIC_HEADERS = {"身份证号", "手机号", "座位号", "总分", "合格线", "是否正确", "用时"}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _typed(header: str, value: str, numbers: bool) -> object:
    """A value as Excel would store it when the column is left as General."""
    if not numbers or value == "":
        return value
    if header in NUMERIC_HEADERS and value.replace(".", "", 1).isdigit():
        f = float(value)
        return int(f) if f.is_integer() else f
    if header in ("开始时间", "交卷时间", "回访时间", "发证日期"):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _sheet(ws, header, rows, *, title=True, total=True, numbers=True, two_row=False):
    width = len(header)
    if title:
        ws.append([TITLE])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws["A1"].font = Font(size=16, bold=True)
        ws["A1"].alignment = Alignment(horizontal="center")
        ws.append([UNIT])
        ws.append([])
    if two_row:
        # a group title over some columns; the other titles merged down both rows
        top = ws._current_row + 1  # the row the header goes into (append([]) leaves no cell)
        ws.append(["考生信息" if 3 <= k < 6 else h for k, h in enumerate(header)])
        ws.append([h if 3 <= k < 6 else None for k, h in enumerate(header)])
        ws.merge_cells(start_row=top, start_column=4, end_row=top, end_column=6)
        for k in range(width):
            if not 3 <= k < 6:
                ws.merge_cells(start_row=top, start_column=k + 1, end_row=top + 1, end_column=k + 1)
    else:
        ws.append(header)
    for r in rows:
        values = [_typed(h, v, numbers) for h, v in zip(header, r)]
        ws.append(values)
        if numbers:
            at = ws._current_row  # (ws.max_row would rescan the sheet on every row)
            for k, (v, h) in enumerate(zip(values, header)):
                if isinstance(v, datetime):
                    ws.cell(at, k + 1).number_format = "yyyy/m/d h:mm"
                elif h == "总分" and isinstance(v, (int, float)):
                    ws.cell(at, k + 1).number_format = "0.00"
    if total:
        ws.append([])
        ws.append(["合计", f"{len(rows)}人"])
        ws.append(["制表人：张三", None, "审核人：李四"])


def xlsx_title_total(header, rows, path: Path) -> Path:
    """Title merged across the columns, a 填报单位 line, a blank line, the table, a 合计 line."""
    wb = Workbook()
    _sheet(wb.active, header, rows, numbers=False)
    wb.active.title = "Sheet1"
    wb.save(path)
    return path


def xlsx_two_sheets(header, rows, path: Path) -> Path:
    """The table split over 第一批 / 第二批 (same header), plus a hidden sheet and a notes sheet."""
    wb = Workbook()
    half = len(rows) // 2
    ws = wb.active
    ws.title = "第一批"
    _sheet(ws, header, rows[:half], title=False, total=False, numbers=False)
    _sheet(wb.create_sheet("第二批"), header, rows[half:], title=False, total=False, numbers=False)
    hidden = wb.create_sheet("旧名单")
    _sheet(hidden, header, rows[:3], title=False, total=False, numbers=False)
    hidden.sheet_state = "hidden"
    notes = wb.create_sheet("填表说明")
    notes.append(["1. 准考证号须与报名系统一致。"])
    notes.append(["2. 身份证号请以文本格式填写。"])
    wb.save(path)
    return path


def xlsx_numbers(header, rows, path: Path) -> Path:
    """ID, phone, seat and score columns typed as numbers, times as date cells (Excel's default)."""
    wb = Workbook()
    _sheet(wb.active, header, rows, title=False, total=False, numbers=True)
    wb.save(path)
    return path


def xlsx_everything(header, rows, path: Path) -> Path:
    """Title, two-row header, numbers typed as numbers, 合计 line, second sheet."""
    wb = Workbook()
    half = len(rows) // 2
    ws = wb.active
    ws.title = "第一批"
    _sheet(ws, header, rows[:half], numbers=True, two_row=True)
    _sheet(wb.create_sheet("第二批"), header, rows[half:], numbers=True, two_row=True)
    wb.save(path)
    return path


def html_xls(header, rows, path: Path) -> Path:
    """An HTML table saved as ``.xls`` (what several provincial systems call an Excel export)."""
    from html import escape

    cells = lambda r, tag: "".join(f"<{tag}>{escape(v)}</{tag}>" for v in r)  # noqa: E731
    body = "\n".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    text = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head><body>'
            f'<table border="1"><tr><td colspan="{len(header)}">{TITLE}</td></tr>'
            f"<tr>{cells(header, 'th')}</tr>\n{body}\n"
            f'<tr><td>合计</td><td colspan="{len(header) - 1}">{len(rows)}</td></tr></table></body></html>')
    path.write_bytes(text.encode("gbk"))
    return path


def csv_xls(header, rows, path: Path) -> Path:
    """A GBK CSV with a title line, renamed ``.xls``."""
    with open(path, "w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([TITLE])
        w.writerow(header)
        w.writerows(rows)
    return path


def biff8_xls(header, rows, path: Path) -> Path:
    """A real BIFF8 workbook (OLE2 container), numbers typed as numbers, title line above."""
    from tests.biff8 import write_xls

    typed = [[_typed(h, v, True) for h, v in zip(header, r)] for r in rows]
    typed = [[v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v for v in r] for r in typed]
    write_xls(path, {"Sheet1": [[TITLE], header, *typed]})
    return path


def typed_text(header, rows, path: Path) -> Path:
    """Values as people type them: full-width digits, NBSP, — for empty, in a UTF-8 CSV."""
    fw = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for k, r in enumerate(rows):
            out = []
            for h, v in zip(header, r):
                if h in ("身份证号", "手机号") and k % 3 == 0:
                    v = v.translate(fw)
                elif h == "姓名":
                    v = f"\u00a0{v} "
                elif h == "操作类别" and v == "":
                    v = "—"
                out.append(v)
            w.writerow(out)
    return path


SHAPES = {
    "title_total.xlsx": xlsx_title_total,
    "two_sheets.xlsx": xlsx_two_sheets,
    "numbers.xlsx": xlsx_numbers,
    "everything.xlsx": xlsx_everything,
    "html.xls": html_xls,
    "csv.xls": csv_xls,
    "biff8.xls": biff8_xls,
    "typed.csv": typed_text,
}


def xml2003_xls(header, rows, path: Path) -> Path:
    """Excel's "XML Spreadsheet 2003" saved as ``.xls``: a merged title, numbers typed as Number, a hidden sheet."""
    from xml.sax.saxutils import escape

    def cell(h, v):
        t = _typed(h, v, True)
        if isinstance(t, (int, float)):
            return f'<Cell><Data ss:Type="Number">{t}</Data></Cell>'
        if isinstance(t, datetime):
            return f'<Cell><Data ss:Type="DateTime">{t:%Y-%m-%dT%H:%M:%S}.000</Data></Cell>'
        return f'<Cell><Data ss:Type="String">{escape(str(t))}</Data></Cell>' if t != "" else "<Cell/>"

    body = "".join("<Row>" + "".join(cell(h, v) for h, v in zip(header, r)) + "</Row>" for r in rows)
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
            f'<Worksheet ss:Name="名单"><Table><Row><Cell ss:MergeAcross="{len(header) - 1}"><Data ss:Type="String">{TITLE}</Data></Cell></Row>'
            "<Row>" + "".join(f'<Cell><Data ss:Type="String">{escape(h)}</Data></Cell>' for h in header) + "</Row>"
            + body + '</Table></Worksheet><Worksheet ss:Name="旧"><Table><Row><Cell><Data ss:Type="String">x</Data></Cell></Row></Table>'
            '<WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible></WorksheetOptions>'
            "</Worksheet></Workbook>")
    path.write_text(text, encoding="utf-8")
    return path


SHAPES["xml2003.xls"] = xml2003_xls
