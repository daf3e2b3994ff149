"""The case register's vocabulary: a case (案件), its problems, rectification and documents.

A case is what one inspection of one unit produces. The campaign notice (浙建管函〔2024〕315号)
names the units (企业, 培训机构, 考试机构), the inspection methods (调看监控视频, 学员电话回访,
大数据比对, 明查暗访, 异地交叉检查, 联合执法 ...) and the outcomes that 附表1 counts (限期整改,
停业整顿, 罚款, 移送公安机关). These are plain dataclasses: the CLI, the server's tables and the
tests all build and read them.

``None`` always means *the register does not say*, never zero: a fine of ``None`` with the
outcome 罚款 makes that city's 罚款金额 cell unknown, not 0.

Example:
    >>> from datetime import date
    >>> c = Case("C1", "杭州市", "西湖区", "考试机构", "杭州甲考点", date(2024, 6, 5),
    ...          methods=("调看监控视频",), outcomes=frozenset({"限期整改"}),
    ...          problems=[Problem("监控录像缺失", due_on=date(2024, 6, 30))])
    >>> [p.overdue(date(2024, 7, 1)) for p in c.problems], c.rectified_count()
    ([True], 0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

UNIT_TYPES: tuple[str, ...] = ("企业", "培训机构", "考试机构")
_UNIT_ALIASES = {
    "企业": ("企业", "施工企业", "建筑施工企业", "用工企业", "enterprise", "company", "employer"),
    "培训机构": ("培训机构", "培训单位", "training", "training_institution", "trainer"),
    "考试机构": ("考试机构", "考点", "考试点", "考核机构", "exam", "exam_institution", "exam_point", "examiner"),
}

#: Methods the notice names (四、(三)); others are kept as written.
METHODS: tuple[str, ...] = ("调看监控视频", "学员电话回访", "大数据比对", "明查暗访", "异地交叉检查", "联合执法", "专项执法",
                            "逢查必检证书")
_METHOD_ALIASES = {
    "调看监控视频": ("调看监控视频", "调看监控", "视频核查", "监控视频", "video"),
    "学员电话回访": ("学员电话回访", "电话回访", "回访", "callback", "callbacks"),
    "大数据比对": ("大数据比对", "大数据比对筛查", "数据比对", "big_data", "records"),
    "明查暗访": ("明查暗访", "暗访", "明查"),
    "异地交叉检查": ("异地交叉检查", "交叉检查"),
    "联合执法": ("联合执法",),
    "专项执法": ("专项执法",),
    "逢查必检证书": ("逢查必检证书", "逢查必检"),
}

#: Outcomes; 停业整顿 is the form's word, 停业整改 the notice's for exam institutions: one outcome.
OUTCOMES: tuple[str, ...] = ("无问题", "限期整改", "停业整顿", "罚款", "移送公安机关")
_OUTCOME_ALIASES = {
    "无问题": ("无问题", "未发现问题", "合格", "none", "no_problem", "ok"),
    "限期整改": ("限期整改", "责令限期整改", "rectify", "rectify_by_deadline", "deadline"),
    "停业整顿": ("停业整顿", "停业整改", "责令停业整改", "责令停业整顿", "停止考试", "暂停考试", "suspend", "suspension"),
    "罚款": ("罚款", "fine", "fined", "penalty"),
    "移送公安机关": ("移送公安机关", "移送公安", "移送司法", "refer_police", "referred", "police"),
}
#: How serious an outcome is, for choosing and ordering typical cases.
SEVERITY = {"移送公安机关": 4, "停业整顿": 3, "罚款": 2, "限期整改": 1, "无问题": 0}


def fold(text: str) -> str:
    """Compare spellings: case, spaces, underscores and brackets do not matter."""
    return re.sub(r"[\s_\-（）()【】\[\]:：]", "", str(text).strip().lower().replace("\ufeff", ""))


_UNIT_OF = {fold(a): u for u, al in _UNIT_ALIASES.items() for a in al}
_METHOD_OF = {fold(a): m for m, al in _METHOD_ALIASES.items() for a in al}
_OUTCOME_OF = {fold(a): o for o, al in _OUTCOME_ALIASES.items() for a in al}
_SPLIT = re.compile(r"[;；、,，/+|\n]")


def parse_unit_type(text: str) -> str:
    u = _UNIT_OF.get(fold(text))
    if u is None:
        raise ValueError(f"{text!r} is not a unit type ({' / '.join(UNIT_TYPES)})")
    return u


def parse_methods(text: str) -> tuple[str, ...]:
    """Known methods are canonicalised; an unknown one is kept as written (the list is open)."""
    out: list[str] = []
    for part in _SPLIT.split(str(text)):
        if part.strip():
            m = _METHOD_OF.get(fold(part), part.strip())
            if m not in out:
                out.append(m)
    return tuple(out)


def parse_outcomes(text: str) -> frozenset[str]:
    out = set()
    for part in _SPLIT.split(str(text)):
        if not part.strip():
            continue
        o = _OUTCOME_OF.get(fold(part))
        if o is None:
            raise ValueError(f"{part.strip()!r} is not an outcome ({' / '.join(OUTCOMES)})")
        out.add(o)
    if "无问题" in out and len(out) > 1:
        raise ValueError(f"无问题 together with {'、'.join(sorted(out - {'无问题'}))}")
    return frozenset(out)


def parse_date(text: str) -> date:
    s = str(text).strip()
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", s)
    if not m:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if not m:
        raise ValueError(f"{s!r} is not a date like 2024-06-20")
    return date(int(m[1]), int(m[2]), int(m[3]))  # ValueError on 2024-13-01 too


def outcome_text(outcomes: frozenset[str] | set[str]) -> str:
    return "、".join(sorted(outcomes, key=lambda o: -SEVERITY.get(o, 0)))


@dataclass
class Problem:
    """One problem found, the findings that support it, and its rectification.

    ``rectified`` can be true with ``done_on`` unknown: a register that only counts rectified
    problems. ``finding_ids`` are stable ids from ``findings.json``.
    """

    description: str
    finding_ids: list[str] = field(default_factory=list)
    due_on: date | None = None
    done_on: date | None = None
    rectified: bool | None = False  # None: the register does not say

    def __post_init__(self) -> None:
        if self.done_on is not None:
            self.rectified = True

    def overdue(self, today: date) -> bool:
        return self.rectified is False and self.due_on is not None and self.due_on < today


@dataclass
class Document:
    """A document of the case (检查记录, 责令整改通知书, 处罚决定书 ...), by path and sha256."""

    title: str
    path: str = ""
    sha256: str = ""


@dataclass
class Case:
    """One inspection of one unit.

    Attributes:
        problems: ``None`` when the register does not say how many problems were found.
        outcomes: empty while undecided; ``{"无问题"}`` for a clean inspection.
        fine_wan: fine in 万元; ``None`` = not recorded.
        unlicensed_persons: 查出无证、假证人员数量 (enterprises); ``None`` = not recorded.
        referred_clues: 涉嫌犯罪的问题线索移交数量; ``None`` = not recorded (the outcome
            移送公安机关 then counts as one clue).
        exam_point: the exam point code when the unit is one (cases opened from findings).
        closed_on: set when the case is closed; only closed cases become 典型案例.
    """

    case_id: str
    city: str
    county: str
    unit_type: str
    unit_name: str
    inspected_on: date
    methods: tuple[str, ...] = ()
    outcomes: frozenset[str] = frozenset()
    fine_wan: float | None = None
    unlicensed_persons: int | None = None
    referred_clues: int | None = None
    problems: list[Problem] | None = None
    exam_point: str = ""
    summary: str = ""
    documents: list[Document] = field(default_factory=list)
    closed_on: date | None = None
    row: int | None = None  # where it came from in an imported register (header = row 1)

    def problem_count(self) -> int | None:
        return None if self.problems is None else len(self.problems)

    def rectified_count(self) -> int | None:
        if self.problems is None or any(p.rectified is None for p in self.problems):
            return None
        return sum(bool(p.rectified) for p in self.problems)

    def overdue_problems(self, today: date) -> list[Problem]:
        return [p for p in self.problems or [] if p.overdue(today)]

    @property
    def finding_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.problems or []:
            for f in p.finding_ids:
                seen.setdefault(f, None)
        return list(seen)
