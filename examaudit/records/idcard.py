"""Citizen ID numbers (公民身份号码, GB 11643-1999): structure and ISO 7064 MOD 11-2 check digit.

An 18-character number is 6 digits of region, 8 of birth date (YYYYMMDD), 3 of sequence
(odd for men) and one check character ``0-9`` or ``X``. A wrong check character means a typo
or an invented number; either way the record cannot be tied to a person.

Example:
    >>> id_number_problem("11010519491231002X") is None
    True
    >>> id_number_problem("110105194912310021")
    'check digit is 1, expected X'
"""

from __future__ import annotations

from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def id_number_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 18-character ID number, or ``None`` when it is."""
    v = value.strip().upper()
    if len(v) == 15 and v.isdigit():
        return "15-digit first-generation ID number; expired since 2013 and has no check digit"
    if len(v) != 18:
        return f"has {len(v)} characters, expected 18"
    if not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        return "must be 17 digits followed by a digit or X"
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return f"birth date {v[6:14]} is not a date"
    if born.year < 1900 or born > date.today():
        return f"birth date {v[6:14]} is out of range"
    expected = check_character(v[:17])
    if v[17] != expected:
        return f"check digit is {v[17]}, expected {expected}"
    return None


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A structurally valid ID number; used by the simulator, never to 'repair' input."""
    first17 = f"{region:0>6}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_character(first17)
