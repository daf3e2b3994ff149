"""Masking personal data for reports: ID numbers, phone numbers and names.

Reports leave the audit team; evidence packs go to enforcement. So reports mask by default
(ID number: first 6 + last 4, phone: first 3 + last 4, name: family name) and show data in
full only when asked explicitly.

Example:
    >>> mask_id("11010519491231002X")
    '110105********002X'
    >>> mask_phone("13812345678")
    '138****5678'
    >>> mask_text("身份证号 11010519491231002X，电话 13812345678")
    '身份证号 110105********002X，电话 138****5678'
"""

from __future__ import annotations

import re
from typing import Any

ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])|(?<![0-9])(\d{6})(\d{5})(\d{4})(?![0-9])")
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")

#: column / key names that hold personal data, and how to mask them
ID_KEYS = {"id_number", "id_no", "id_card", "身份证号", "身份证号码", "证件号码", "公民身份号码"}
PHONE_KEYS = {"phone", "mobile", "telephone", "手机号", "手机号码", "联系电话", "电话"}
NAME_KEYS = {"name", "full_name", "candidate_name", "姓名", "考生姓名"}


def mask_id(value: str) -> str:
    v = str(value).strip()
    if len(v) <= 10:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", str(value))
    if len(digits) < 8:
        return "*" * len(digits)
    digits = digits[-11:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    v = str(value).strip()
    if not v:
        return v
    if v.isascii():
        parts = v.split()
        return parts[0] + (" " + " ".join("*" * len(p) for p in parts[1:]) if len(parts) > 1 else "*")
    return v[0] + "*" * max(1, len(v) - 1)


def mask_text(text: str) -> str:
    """Mask ID and phone numbers inside free text (reasons, notes)."""

    def _id(m: re.Match) -> str:
        return mask_id(m.group(0))

    text = ID_RE.sub(_id, text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_value(key: str, value: Any) -> Any:
    """Mask one field by its name; free text is scanned for ID and phone numbers."""
    if value is None or value == "":
        return value
    k = str(key).strip().lower()
    if k in ID_KEYS:
        return mask_id(str(value))
    if k in PHONE_KEYS:
        return mask_phone(str(value))
    if k in NAME_KEYS:
        return mask_name(str(value))
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {kk: mask_value(kk, vv) for kk, vv in value.items()}
    if isinstance(value, list):
        return [mask_value(key, v) for v in value]
    return value
