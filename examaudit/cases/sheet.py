"""Every spreadsheet cell the cases package writes goes through :func:`cell`.

Registers, call lists and forms carry text typed by other people (unit names, notes, answers
from a call). A string that starts with ``=`` would be stored by openpyxl as a formula and a
CSV cell starting with ``=``, ``+``, ``-`` or ``@`` is run as one by Excel (CSV/formula
injection). One function decides how text becomes a cell, and it defers to the project's one
neutraliser, :func:`examaudit.outputs.neutralise`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..outputs import neutralise


def cell(value: Any) -> Any:
    """The value to put in a spreadsheet cell (xlsx or CSV): numbers and dates as they are,
    text that a spreadsheet would run as a formula prefixed with ``'`` by the project's one
    neutraliser (:func:`examaudit.outputs.neutralise`); text that is a number ("-3") stays as typed."""
    if value is None or isinstance(value, (bool, int, float, date, datetime)):
        return value
    text = str(value)
    return text if _is_number(text) else neutralise(text)


def _is_number(text: str) -> bool:
    # "-3" is a number a register may hold (never negative here, but not a formula either)
    try:
        float(text)
        return True
    except ValueError:
        return False


def put(ws, row: int, column: int, value: Any):
    """Write one openpyxl cell through :func:`cell` and return it (for styling)."""
    c = ws.cell(row=row, column=column)
    c.value = cell(value)
    if isinstance(c.value, str):
        c.data_type = "s"  # never let openpyxl infer a formula from text
    return c


def append(ws, values: list[Any]) -> int:
    """Append a row through :func:`put`; returns its row number."""
    r = ws.max_row + 1 if ws.max_row > 1 or any(c.value is not None for c in ws[1]) else 1
    for j, v in enumerate(values, start=1):
        put(ws, r, j, v)
    return r
