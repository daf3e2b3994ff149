"""学员电话回访: whom to phone for one exam point and session, and what to ask them.

The notice asks bureaus to check exam institutions by 学员电话回访. Records forensics can only
analyse calls that were made; this module decides which calls to make:

* every candidate the records or the video flag (:data:`FLAG_KINDS`: absent on video, in a
  similarity cluster, misfitting answers, a certificate without a pass ...), most serious first;
* a random control sample of the others, so the bureau can estimate the background
  not-in-person rate. Its size comes from a stated precision: the smallest ``n`` whose Wilson
  95% interval has half-width at most ``d`` at the planning rate ``p``, corrected for the finite
  number ``N`` of unflagged candidates in the session (:func:`control_sample_size`).

The script (:data:`SCRIPT`) is fixed, so every call asks the same questions in the same words;
its answers map onto the callbacks file that ``examaudit records`` reads (:mod:`.callbook`).

Example:
    >>> s = control_sample_size(0.10, planning_rate=0.10, population=1000)
    >>> s.n0, s.n
    (37, 36)
    >>> control_sample_size(0.10, planning_rate=0.10, population=20).n
    14
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Iterable

import numpy as np

from ..findings import KIND_TITLES, Finding, FindingKind
from ..records.tables import Roster

#: finding kinds that put a candidate on the call list, with a priority weight (higher first)
FLAG_KINDS: dict[str, int] = {
    FindingKind.certificate_absent_on_video.value: 100,
    FindingKind.absent_candidate.value: 90,
    FindingKind.certificate_without_pass.value: 80,
    FindingKind.similarity_cluster.value: 70,
    FindingKind.duplicate_person.value: 60,
    FindingKind.answer_similarity.value: 60,
    FindingKind.person_misfit.value: 50,
    FindingKind.rapid_correct_answers.value: 50,
    FindingKind.response_time_aberrance.value: 40,
    FindingKind.multiple_certificates.value: 40,
    FindingKind.candidate_left.value: 30,
    FindingKind.callback_not_in_person.value: 20,  # a second call confirms an earlier admission
}

#: The call script: (key, question). Keys name the answer columns of the call list.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("sat_exam_in_person", "您是否本人参加了这次建筑施工特种作业人员考试？（是/否/不清楚）"),
    ("room_answer", "您当天在哪个考场、哪个座位考试？"),
    ("invigilator_answer", "当天是谁监考？监考人员有几位？"),
    ("paid_intermediary", "除报名费和考试费以外，您是否向任何人或机构另外付过钱？（是/否/不清楚）"),
    ("certificate_answer", "您的证书是怎么拿到的？本人领取、邮寄，还是他人代办转交？"),
    ("attended_training", "考试前您是否参加了培训？（是/否/不清楚）"),
)
OPENING = ("您好，这里是住房和城乡建设主管部门，正在对建筑施工特种作业人员考试情况进行回访，"
           "想占用您两分钟时间核实几个问题。")
CLOSING = "感谢您的配合。如有人以“包过”“代考”等名义向您收费，可拨打12350举报。"


@dataclass(frozen=True)
class SampleSize:
    """The control sample's size and how it was reached (printed with the call list)."""

    n: int
    n0: int
    population: int
    precision: float
    confidence: float
    planning_rate: float
    z: float

    def formula(self) -> str:
        return ("Wilson 区间半宽 h(n) = z/(1+z²/n)·√(p(1−p)/n + z²/(4n²))；取 h(n) ≤ d 的最小 n₀，"
                "再按有限总体校正 n = ⌈n₀·N/(n₀+N−1)⌉（不超过 N）")

    def explain(self) -> str:
        return (f"对照样本 n = {self.n}：置信度 {self.confidence:.0%}（z = {self.z:.3f}），精度 d = ±{self.precision:g}，"
                f"预估未本人参考率 p = {self.planning_rate:g}，n₀ = {self.n0}，未被标记考生 N = {self.population}。"
                + self.formula())


def wilson_half_width(n: np.ndarray | int, p: float, z: float) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))


def control_sample_size(precision: float, *, confidence: float = 0.95, planning_rate: float = 0.10,
                        population: int | None = None) -> SampleSize:
    """Smallest control sample whose Wilson interval on the rate has half-width ``<= precision``.

    Raises:
        ValueError: precision not in (0, 0.5], confidence not in (0, 1), planning rate not in [0, 1].
    """
    if not 0 < precision <= 0.5:
        raise ValueError(f"precision must be in (0, 0.5], got {precision}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not 0 <= planning_rate <= 1:
        raise ValueError(f"planning rate must be in [0, 1], got {planning_rate}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    n = np.arange(1, 2_000_001)
    ok = np.flatnonzero(wilson_half_width(n, planning_rate, z) <= precision)
    n0 = int(n[ok[0]])
    big_n = population if population is not None else n0
    size = n0 if population is None else min(big_n, math.ceil(n0 * big_n / (n0 + big_n - 1))) if big_n > 0 else 0
    return SampleSize(int(size), n0, int(big_n), precision, confidence, planning_rate, z)


@dataclass
class CallTarget:
    """One candidate to phone. ``control`` is true for the random sample of unflagged ones."""

    priority: int
    candidate_id: str
    name: str
    phone: str
    exam_point: str
    session: str
    room: str
    seat: str
    reasons: list[str] = field(default_factory=list)
    finding_ids: list[str] = field(default_factory=list)
    control: bool = False
    weight: int = 0


@dataclass
class CallPlan:
    exam_point: str
    session: str
    targets: list[CallTarget]
    sample: SampleSize
    seed: int
    flagged: int
    session_size: int

    @property
    def controls(self) -> list[CallTarget]:
        return [t for t in self.targets if t.control]


def flagged_candidates(findings: Iterable[Finding], exam_point: str) -> dict[str, tuple[int, list[str], list[str]]]:
    """Candidate id -> (priority weight, reasons, finding ids) for the flagging findings of
    ``exam_point``. A cluster or duplicate-person finding names all its members."""
    out: dict[str, tuple[int, list[str], list[str]]] = {}
    for f in findings:
        kind = f.kind.value if hasattr(f.kind, "value") else str(f.kind)
        if kind not in FLAG_KINDS or (f.exam_point and f.exam_point != exam_point):
            continue
        who = [f.candidate_id] if f.candidate_id else []
        who += [str(c) for c in f.details.get("candidate_ids", []) or []]
        if f.details.get("other_candidate_id"):
            who.append(str(f.details["other_candidate_id"]))
        label = KIND_TITLES[FindingKind(kind)][0]
        for c in dict.fromkeys(who):
            w, reasons, ids = out.get(c, (0, [], []))
            if label not in reasons:
                reasons = reasons + [label]
                w += FLAG_KINDS[kind]
            out[c] = (w, reasons, ids if f.id in ids else ids + [f.id])
    return out


def plan_calls(roster: Roster, findings: Iterable[Finding], exam_point: str, session: str, *, precision: float = 0.10,
               confidence: float = 0.95, planning_rate: float = 0.10, seed: int = 0) -> CallPlan:
    """The call list for ``exam_point``/``session``: flagged candidates by weight, then the
    random control sample (seeded: the same inputs give the same list).

    Raises:
        ValueError: nobody on the roster sits that exam point and session.
    """
    at = np.flatnonzero((roster.exam_point.astype(str) == exam_point) & (roster.session.astype(str) == session))
    if not len(at):
        raise ValueError(f"no candidate on the roster at exam point {exam_point!r}, session {session!r}")
    flags = flagged_candidates(findings, exam_point)

    def target(i: int, weight: int, reasons: list[str], ids: list[str], control: bool) -> CallTarget:
        return CallTarget(0, str(roster.candidate_id[i]), str(roster.name[i]), str(roster.phone[i]), exam_point, session,
                          str(roster.room[i]), str(roster.seat[i]), reasons, ids, control, weight)

    flagged = [target(i, *flags[str(roster.candidate_id[i])], False) for i in at if str(roster.candidate_id[i]) in flags]
    flagged.sort(key=lambda t: (-t.weight, t.candidate_id))
    others = [i for i in at if str(roster.candidate_id[i]) not in flags]
    size = control_sample_size(precision, confidence=confidence, planning_rate=planning_rate, population=len(others))
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(others), size=size.n, replace=False).tolist()) if size.n else []
    order = rng.permutation(len(picked)).tolist()  # call order of the controls is random too
    controls = [target(others[picked[k]], 0, ["对照抽样（随机）"], [], True) for k in order]
    targets = flagged + controls
    for k, t in enumerate(targets, start=1):
        t.priority = k
    return CallPlan(exam_point, session, targets, size, seed, len(flagged), len(at))
