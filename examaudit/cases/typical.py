"""典型案例: an anonymised write-up of a closed case, and the quarterly bulletin (一季度一通报).

The notice (四、(四)) asks cities to publish typical cases, 一类一通报 and 一季度一通报. A write-up
is built from the case (unit type, city, date, methods, problems, outcome) and its confirmed
findings (their reasons and evidence frames). Before anything leaves:

* the unit becomes 某考试机构 / 某企业 / 某培训机构; the county is left out (with the unit type
  it can point to one unit);
* free text loses unit names, candidate ids, every known personal name (the caller passes the
  roster's names), 18/15-digit ID numbers and mobile numbers (:func:`scrub`);
* evidence frames have every person blurred. OpenCV 5's wheel ships no face detector (its
  ``cv2.data`` folder holds no Haar cascades), so the product's own person detector
  (SSDLite, ``models/``) finds the people and each whole person box is blurred, which hides
  faces and anything else that could identify them. A frame in which the detector finds no one
  is blurred whole, since a missed person would otherwise be published.

Output: Markdown (frames beside it) and docx (python-docx, frames embedded).

Example:
    >>> scrub("杭州甲考点考生EP-HZ-01-S1-003（张三，电话13812345678，身份证330106199001011234）",
    ...       names=["杭州甲考点", "张三"], candidate_ids=["EP-HZ-01-S1-003"])
    '某单位考生某考生（某某，电话[电话已隐去]，身份证[身份证号已隐去]）'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..findings import KIND_TITLES, Finding
from .model import Case, outcome_text

_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_CANDIDATE_RE = re.compile(r"(?<![0-9A-Za-z])EP-[A-Z0-9]+-[0-9]+-S[0-9A-Za-z]+-[0-9]+(?![0-9A-Za-z])")

#: 一类一通报: the notice's kinds of typical case (四、(四)), chosen per case
CASE_TYPES = ("考试弄虚作假", "无证、持假证上岗", "假冒政府网站和证件", "平台虚假宣传", "培训弄虚作假")


_WARNING = {
    "考试机构": "警示：考试机构（含考点）纵容、参与考生作弊，勾结倒卖安全生产资格证书的，将依法依规严肃查处；涉嫌犯罪的，移送公安机关。",
    "企业": "警示：用工企业对特种作业人员持证情况不查验、默许无证或持假证上岗的，将依法从严处罚；涉嫌犯罪的，移送公安机关。",
    "培训机构": "警示：培训机构培训学时不足、弄虚作假的，将依法依规严肃查处。",
}


def case_type(case: Case) -> str:
    text = case.summary + "".join(p.description for p in case.problems or [])
    if "网站" in text or "假冒政府" in text:
        return "假冒政府网站和证件"
    if "宣传" in text or "包过" in text:
        return "平台虚假宣传"
    return {"考试机构": "考试弄虚作假", "企业": "无证、持假证上岗", "培训机构": "培训弄虚作假"}[case.unit_type]


def scrub(text: str, names: Iterable[str] = (), candidate_ids: Iterable[str] = ()) -> str:
    """Remove identifying details from free text: unit and person names, candidate ids, ID and phone numbers."""
    names = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    for n in names:
        text = text.replace(n, "某单位" if len(n) > 4 else "某某")
    for c in sorted({c for c in candidate_ids if c}, key=len, reverse=True):
        text = text.replace(c, "某考生")
    text = _CANDIDATE_RE.sub("某考生", text)
    text = _ID_RE.sub("[身份证号已隐去]", text)
    return _PHONE_RE.sub("[电话已隐去]", text)


@dataclass
class TypicalCase:
    title: str
    case_type: str
    paragraphs: list[str]
    frames: list[tuple[bytes, str]] = field(default_factory=list)  # (JPEG with people blurred, caption)
    blurred_people: int = 0
    quarter: str = ""


def quarter_of(d: date) -> str:
    return f"{d.year}年第{(d.month - 1) // 3 + 1}季度"


def blur_people(image: np.ndarray, detector=None) -> tuple[np.ndarray, int]:
    """Blur every person box the detector finds (the whole box, enlarged by 10%); blur the whole
    frame when it finds none. Returns the new image and how many boxes were blurred."""
    import cv2

    from ..video.detector import load_detector

    det = detector or load_detector()
    boxes = det.detect(image).xyxy
    out = image.copy()
    h, w = out.shape[:2]
    k = max(15, (min(h, w) // 10) | 1)
    if len(boxes) == 0:
        return cv2.GaussianBlur(out, (k * 2 + 1, k * 2 + 1), 0), 0
    for x1, y1, x2, y2 in boxes:
        dx, dy = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
        a, b = max(0, int(x1 - dx)), max(0, int(y1 - dy))
        c, d = min(w, int(x2 + dx) + 1), min(h, int(y2 + dy) + 1)
        if c > a and d > b:
            roi = out[b:d, a:c]
            small = cv2.resize(roi, (max(1, (c - a) // 12), max(1, (d - b) // 12)), interpolation=cv2.INTER_AREA)
            out[b:d, a:c] = cv2.GaussianBlur(cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST), (k, k), 0)
    return out, len(boxes)


def typical_case(case: Case, findings: Sequence[Finding], *, frames_root: Path | None = None,
                 names: Iterable[str] = (), max_frames: int = 3, detector=None) -> TypicalCase:
    """The anonymised write-up of ``case`` from its confirmed ``findings``.

    ``frames_root`` is the folder the findings' evidence paths are relative to (an audit
    folder); up to ``max_frames`` frames are included with people blurred.

    Raises:
        ValueError: the case is not closed (only closed cases are published).
    """
    import cv2

    from ..video.evidence import encode_jpeg

    if case.closed_on is None:
        raise ValueError(f"case {case.case_id} is not closed; only closed cases become 典型案例")
    hidden = [case.unit_name, *names]
    cands = [f.candidate_id for f in findings if f.candidate_id]
    cands += [c for f in findings for c in (f.details.get("candidate_ids") or [])]

    def s(text: str) -> str:
        return scrub(text, hidden, cands)

    unit = f"某{case.unit_type}"
    ctype = case_type(case)
    d = case.inspected_on
    paras = [f"{d.year}年{d.month}月，{case.city}住房和城乡建设主管部门" +
             (f"通过{'、'.join(case.methods)}等方式" if case.methods else "") + f"对{case.city}{unit}开展执法检查。"]
    if case.summary:
        paras.append(s(case.summary).rstrip("。") + "。")
    if findings:
        lines = []
        seen = set()
        for f in findings:
            label = KIND_TITLES[f.kind][0]
            reason = s(f.reason_zh).rstrip("。")
            if reason in seen:
                continue
            seen.add(reason)
            lines.append(f"{label}：{reason}")
        paras.append("经核查确认：" + "；".join(lines) + "。")
    probs = [p for p in case.problems or [] if p.description]
    if probs:
        paras.append("查实问题：" + "；".join(f"{i}. {s(p.description)}" for i, p in enumerate(probs, start=1)) + "。")
    outcome = outcome_text(case.outcomes) or "依法处理"
    extra = []
    if case.fine_wan:
        extra.append(f"罚款{case.fine_wan:g}万元")
    if case.referred_clues:
        extra.append(f"移交涉嫌犯罪线索{case.referred_clues}条")
    n_done = case.rectified_count()
    if n_done is not None and case.problems:
        extra.append(f"{len(case.problems)}项问题已整改{n_done}项")
    paras.append(f"处理结果：{outcome}" + (f"（{'，'.join(extra)}）" if extra else "") + "。")
    paras.append(_WARNING[case.unit_type])

    frames: list[tuple[bytes, str]] = []
    blurred = 0
    if frames_root is not None:
        for f in findings:
            for ev in f.evidence:
                if ev.type != "frame" or len(frames) >= max_frames:
                    continue
                img = cv2.imread(str(Path(frames_root) / ev.path))
                if img is None:
                    continue
                img, n = blur_people(img, detector)
                blurred += n
                frames.append((encode_jpeg(img, 85), f"{KIND_TITLES[f.kind][0]}（证据画面，人员已模糊处理）"))
    title = f"{case.city}{unit}{ctype}案"
    return TypicalCase(title, ctype, paras, frames, blurred, quarter_of(case.closed_on))


def write_markdown(cases: Sequence[TypicalCase], path: str | Path, title: str) -> Path:
    """Markdown with the frames written beside it as ``<stem>_frames/NN.jpg``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fdir = path.with_name(f"{path.stem}_frames")
    lines = [f"# {title}", ""]
    k = 0
    for i, c in enumerate(cases, start=1):
        lines += [f"## {'案例' + str(i) + '：' if len(cases) > 1 else ''}{c.title}", ""]
        for p in c.paragraphs:
            lines += [p, ""]
        for data, caption in c.frames:
            k += 1
            fdir.mkdir(exist_ok=True)
            (fdir / f"{k:02d}.jpg").write_bytes(data)
            lines += [f"![{caption}]({fdir.name}/{k:02d}.jpg)", "", f"*{caption}*", ""]
    if not cases:
        lines += ["本期无可公开的典型案例。", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_docx(cases: Sequence[TypicalCase], path: str | Path, title: str) -> Path:
    """A Word document: title, one section per case, frames embedded (14 cm wide)."""
    import io

    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    h = doc.add_heading(title, level=1)
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, c in enumerate(cases, start=1):
        doc.add_heading(f"{'案例' + str(i) + '：' if len(cases) > 1 else ''}{c.title}", level=2)
        for p in c.paragraphs:
            doc.add_paragraph(p)
        for data, caption in c.frames:
            doc.add_picture(io.BytesIO(data), width=Cm(14))
            cap = doc.add_paragraph(caption)
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if not cases:
        doc.add_paragraph("本期无可公开的典型案例。")
    doc.core_properties.author = "examaudit"
    doc.core_properties.title = title
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    doc.save(str(tmp))
    tmp.replace(path)
    return path


def bulletin(cases: Sequence[TypicalCase]) -> list[tuple[str, list[TypicalCase]]]:
    """一类一通报: the quarter's typical cases grouped by type, in :data:`CASE_TYPES` order."""
    groups: dict[str, list[TypicalCase]] = {}
    for c in cases:
        groups.setdefault(c.case_type, []).append(c)
    return [(t, groups[t]) for t in CASE_TYPES if t in groups]


def bulletin_cases(cases: Sequence[TypicalCase]) -> list[TypicalCase]:
    """The bulletin's cases in order, each titled with its type group."""
    out = []
    for t, group in bulletin(cases):
        for c in group:
            out.append(TypicalCase(f"【{t}】{c.title}", c.case_type, c.paragraphs, c.frames, c.blurred_people, c.quarter))
    return out
