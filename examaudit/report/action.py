"""The recommended action under the campaign, decided by an explicit rule over the findings.

The rule is deliberately simple so an auditor can read it aloud and a regulator can argue
with it; it only *recommends*: the signing auditor decides.

=====================  ==================================================================
Action                 When (severity counts only findings with confidence ≥ 0.5)
=====================  ==================================================================
移送公安机关            a *crime indicator* at high or critical severity: someone else sat
(refer to police)      the exam (callback says not in person), a certificate for a
                       candidate absent on video, a certificate without a pass, one
                       certificate number on two people, an organised answer-copying
                       cluster, or a person seen helping in the room (extra person) —
                       or footage *tampering* (splice, replayed loop, timestamps going
                       backwards) at high or above together with any crime indicator at
                       medium or above (hiding the evidence of a fraud).
停业整改                any critical finding, tampering at high or above, or two or more
(suspend, rectify)     high findings. Always accompanies a police referral.
限期整改                any finding at medium or above.
(rectify by deadline)
继续监测                otherwise.
(keep monitoring)
=====================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding, FindingKind, Severity

CRIME_INDICATORS = frozenset({
    FindingKind.callback_not_in_person,
    FindingKind.certificate_absent_on_video,
    FindingKind.certificate_without_pass,
    FindingKind.duplicate_certificate,
    FindingKind.similarity_cluster,
    FindingKind.extra_person,
})
TAMPERING = frozenset({FindingKind.splice, FindingKind.looped_segment, FindingKind.timestamp_backwards})
MIN_CONFIDENCE = 0.5

NONE, RECTIFY, SUSPEND, POLICE = "act_none", "act_rectify", "act_suspend", "act_police"


@dataclass
class Recommendation:
    """The actions recommended (i18n keys): one of 继续监测 / 限期整改 / 停业整改, then 移送公安机关 when
    the rule says so; and the findings that triggered each."""

    actions: list[str]
    triggers: dict[str, list[str]] = field(default_factory=dict)  # action -> finding ids

    @property
    def strongest(self) -> str:
        return self.actions[-1]

    @property
    def administrative(self) -> str:
        """The administrative measure: 继续监测, 限期整改 or 停业整改."""
        return self.actions[0]


def _at_least(f: Finding, sev: Severity) -> bool:
    return Severity(f.severity).rank >= sev.rank and f.confidence >= MIN_CONFIDENCE


def recommend(findings: list[Finding]) -> Recommendation:
    """Apply the rule in this module's docstring."""
    crime_high = [f for f in findings if f.kind in CRIME_INDICATORS and _at_least(f, Severity.high)]
    crime_medium = [f for f in findings if f.kind in CRIME_INDICATORS and _at_least(f, Severity.medium)]
    tamper = [f for f in findings if f.kind in TAMPERING and _at_least(f, Severity.high)]
    critical = [f for f in findings if _at_least(f, Severity.critical)]
    high = [f for f in findings if _at_least(f, Severity.high)]
    medium = [f for f in findings if _at_least(f, Severity.medium)]

    police = crime_high + (tamper + crime_medium if tamper and crime_medium else [])
    suspend = critical + tamper + (high if len(high) >= 2 else []) + police
    triggers: dict[str, list[str]] = {}
    if suspend:
        actions = [SUSPEND]
        triggers[SUSPEND] = list(dict.fromkeys(f.id for f in suspend))
    elif medium:
        actions = [RECTIFY]
        triggers[RECTIFY] = [f.id for f in medium]
    else:
        actions = [NONE]
    if police:
        actions.append(POLICE)
        triggers[POLICE] = list(dict.fromkeys(f.id for f in police))
    return Recommendation(actions, triggers)


#: The rule as rows for the report's appendix: (action key, zh, en).
RULE_ROWS: list[tuple[str, str, str]] = [
    (POLICE,
     "存在高/严重级别的涉嫌犯罪线索（回访称未本人参考、缺考仍发证、无合格记录发证、证书编号重复、雷同答卷群、考场人数超员），"
     "或高级别以上录像篡改（拼接、循环回放、时间戳倒退）且同时存在中级别以上的上述线索。",
     "A crime indicator at high or critical severity (callback: not in person, certificate for a candidate absent on "
     "video, certificate without a pass, duplicate certificate number, answer-similarity cluster, extra person in the "
     "room), or footage tampering (splice, replayed loop, timestamps backwards) at high or above together with any "
     "such indicator at medium or above."),
    (SUSPEND,
     "存在严重级别问题、高级别以上录像篡改，或两项及以上高级别问题；移送公安机关时一并停业整改。",
     "Any critical finding, footage tampering at high or above, or two or more high findings; always together with "
     "a police referral."),
    (RECTIFY, "存在中级别及以上问题。", "Any finding at medium or above."),
    (NONE, "其他情况。", "Otherwise."),
]
