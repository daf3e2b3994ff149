"""Canonical columns of the records files, and the header spellings we accept for each.

Provinces export rosters, scores, callback logs and certificate registers from different
systems, in Chinese or English, with small spelling differences (全角括号, spaces, 准考证号 vs
考生编号). Every header is normalised (case, spaces, punctuation) and looked up here; the rest
of the package only ever sees the canonical English names.

``docs/records.md`` documents this table for people preparing files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, Chinese name, value kind and accepted headers.

    Attributes:
        name: canonical English name used throughout the package.
        zh: the usual Chinese header, quoted in error messages.
        kind: ``text`` | ``number`` | ``binary`` (0/1) | ``yesno`` (yes/no/unknown) |
            ``passed`` | ``datetime`` | ``outcome`` (callback outcome).
        aliases: further accepted headers (compared after :func:`normalise_header`).
    """

    name: str
    zh: str
    kind: str = "text"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """Which columns one input file must and may have.

    ``one_of`` lists groups of which at least one column must be present (certificates name
    the holder by candidate id or by ID number). ``may_be_empty`` names required columns whose
    empty cells are data, not a bad row: a candidate who left an item unanswered (omitted or
    not reached) answered nothing, and the screens score that as wrong with its time.
    """

    role: str
    required: tuple[Column, ...]
    optional: tuple[Column, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    #: Required columns whose cells may be empty, because empty is data: an omitted answer.
    may_be_empty: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.required + self.optional

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CANDIDATE_ID = Column("candidate_id", "准考证号", aliases=("考号", "考试号", "准考证", "考生编号", "考生号", "准考证编号", "candidate", "candidate_no", "ticket_no", "admission_no"))
EXAM_POINT = Column("exam_point", "考点", aliases=("考点名称", "考试点", "考试机构", "考点编号", "考点代码", "考试机构名称", "exam_centre", "exam_center", "centre", "center", "test_centre", "site"))
SESSION = Column("session", "场次", aliases=("考试场次", "批次", "考试批次", "session_id", "sitting"))
NAME = Column("name", "姓名", aliases=("考生姓名", "full_name", "candidate_name"))
ID_NUMBER = Column("id_number", "身份证号", aliases=("身份证号码", "身份证", "证件号码", "公民身份号码", "id_card", "id_no", "national_id"))
PHONE = Column("phone", "手机号", aliases=("手机", "联系电话", "手机号码", "电话", "联系方式", "mobile", "telephone"))
ROOM = Column("room", "考场", aliases=("考场号", "考室", "考场编号", "room_no"))
SEAT = Column("seat", "座位号", aliases=("座号", "机位号", "座位", "seat_no"))
TOTAL = Column("total", "总分", "number", aliases=("成绩", "分数", "考试成绩", "得分", "score", "total_score"))
PASSED = Column("passed", "是否合格", "passed", aliases=("考试结果", "合格与否", "结果", "合格", "是否通过", "pass", "result"))
PASS_MARK = Column("pass_mark", "合格线", "number", aliases=("合格分数线", "及格线", "分数线", "pass_score", "cut_score"))
STARTED_AT = Column("started_at", "开始时间", "datetime", aliases=("开考时间", "入场时间", "start_time", "start"))
SUBMITTED_AT = Column("submitted_at", "交卷时间", "datetime", aliases=("提交时间", "结束时间", "submit_time", "end_time", "finished_at"))
ITEM_ID = Column("item_id", "题号", aliases=("试题编号", "题目编号", "试题号", "item", "question", "question_id"))
RESPONSE = Column("response", "作答", aliases=("考生答案", "答案", "作答内容", "选项", "answer", "choice"))
CORRECT = Column("correct", "是否正确", "binary", aliases=("正确", "对错", "判分", "is_correct"))
SECONDS = Column("seconds", "用时", "number", aliases=("用时秒", "作答用时", "答题用时", "耗时", "time", "rt", "response_time"))
CALLED_AT = Column("called_at", "回访时间", "datetime", aliases=("回访日期", "电话回访时间", "call_time"))
OUTCOME = Column("outcome", "回访结果", "outcome", aliases=("回访状态", "接通情况", "call_outcome", "result"))
ATTENDED_TRAINING = Column("attended_training", "是否参加培训", "yesno", aliases=("参加培训", "是否参训", "参训", "trained"))
SAT_IN_PERSON = Column("sat_exam_in_person", "是否本人参考", "yesno", aliases=("本人参考", "是否本人参加考试", "本人考试", "in_person"))
PAID_INTERMEDIARY = Column("paid_intermediary", "是否通过中介缴费", "yesno", aliases=("中介缴费", "是否中介", "通过中介", "intermediary"))
NOTES = Column("notes", "备注", aliases=("回访记录", "说明", "note", "remarks"))
CERTIFICATE_NO = Column("certificate_no", "证书编号", aliases=("证书号", "证号", "证书号码", "certificate", "cert_no"))
ISSUED_AT = Column("issued_at", "发证日期", "datetime", aliases=("发证时间", "签发日期", "issue_date", "issued"))
CATEGORY = Column("category", "操作类别", aliases=("证书类别", "工种", "操作项目", "考试科目", "科目", "type", "certificate_type"))

ROSTER = TableSpec("roster", (CANDIDATE_ID, EXAM_POINT, SESSION), (NAME, ID_NUMBER, PHONE, ROOM, SEAT, CATEGORY))
SCORES = TableSpec("scores", (CANDIDATE_ID, EXAM_POINT, SESSION, TOTAL), (PASSED, PASS_MARK, STARTED_AT, SUBMITTED_AT))
RESPONSES = TableSpec("responses", (CANDIDATE_ID, ITEM_ID, RESPONSE, CORRECT, SECONDS), may_be_empty=("response",))
CALLBACKS = TableSpec("callbacks", (CANDIDATE_ID, CALLED_AT, OUTCOME, ATTENDED_TRAINING, SAT_IN_PERSON, PAID_INTERMEDIARY), (NOTES,))
CERTIFICATES = TableSpec(
    "certificates",
    (CERTIFICATE_NO, ISSUED_AT, EXAM_POINT, SESSION),
    (CANDIDATE_ID, ID_NUMBER, NAME, CATEGORY),
    one_of=(("candidate_id", "id_number"),),
)
SPECS: dict[str, TableSpec] = {s.role: s for s in (ROSTER, SCORES, RESPONSES, CALLBACKS, CERTIFICATES)}

# Values, compared after lower-casing and stripping. Anything else is a bad row, never a guess.
YES = {"yes", "y", "是", "有", "true", "t", "1", "参加", "本人", "是的", "对"}
NO = {"no", "n", "否", "无", "没有", "false", "f", "0", "未参加", "非本人", "不是", "没"}
UNKNOWN = {"unknown", "不清楚", "未知", "不详", "说不清", "拒答", "na", "n/a", "-"}
PASSED_YES = YES | {"合格", "通过", "pass", "passed"}
PASSED_NO = NO | {"不合格", "未通过", "fail", "failed"}
#: "Did not sit": an absent candidate is not a failed one (left out of pass rates, noted).
ABSENT = {"缺考", "缺席", "未参考", "未参加考试", "absent"}
#: Cells that mean "nothing here" as clerks type it. Not applied to yes/no answers, where 无 means no.
EMPTY_MARKS = {"—", "——", "-", "--", "/", "无", "n/a", "#N/A", "null", "NULL", "None"}
OUTCOMES = {
    "reached": {"reached", "接通", "已接通", "正常接通", "本人接听"},
    "unreachable": {"unreachable", "无法接通", "未接通", "关机", "无人接听", "停机", "no_answer"},
    "wrong_number": {"wrong_number", "号码错误", "空号", "非本人号码", "错号", "wrong number"},
    "refused": {"refused", "拒绝", "拒访", "拒绝回访", "挂断"},
}
OUTCOME_OF = {alias: canon for canon, aliases in OUTCOMES.items() for alias in aliases}

_PUNCT = re.compile(r"[\s_\-·.:：（）()\[\]【】/\\]+")


def normalise_header(text: str) -> str:
    """Fold a header to a comparable key: 准考证号（必填） and ``Candidate ID`` both fold cleanly."""
    text = str(text).replace("\ufeff", "").strip().lower()
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", text)  # "(必填)", "（秒）" are annotations, not names
    return _PUNCT.sub("", text)


@lru_cache(maxsize=None)
def header_lookup(spec: TableSpec) -> dict[str, str]:
    """Folded header -> canonical name, for every spelling ``spec`` accepts (first one wins)."""
    lookup: dict[str, str] = {}
    for col in spec.columns:
        for key in (col.name, col.zh, *col.aliases):
            lookup.setdefault(normalise_header(key), col.name)
    return lookup


def synonym_table() -> list[tuple[str, str, list[str]]]:
    """(canonical name, Chinese header, further accepted headers) for every column: the table
    ``docs/records.md`` prints (a test keeps the two equal)."""
    seen, out = set(), []
    for spec in SPECS.values():
        for col in spec.columns:
            if col.name not in seen:
                seen.add(col.name)
                out.append((col.name, col.zh, list(col.aliases)))
    return out


def synonym_markdown() -> str:
    """The header-synonym table as Markdown, generated from this module."""
    lines = ["| column | 中文表头 | also accepted |", "|---|---|---|"]
    for name, zh, aliases in synonym_table():
        lines.append(f"| `{name}` | {zh} | {' / '.join(aliases)} |")
    return "\n".join(lines)


def header_map(spec: TableSpec, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map canonical names to column positions; also return headers we do not know.

    The canonical name, its Chinese name and every alias are accepted. When two headers map
    to one column the first wins and the second is listed as unknown, so nothing is merged
    silently.
    """
    lookup = header_lookup(spec)
    found: dict[str, int] = {}
    unknown: list[str] = []
    for pos, h in enumerate(headers):
        name = lookup.get(normalise_header(h))
        if name is None or name in found:
            unknown.append(str(h))
        else:
            found[name] = pos
    return found, unknown
