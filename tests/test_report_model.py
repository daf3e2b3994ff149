"""The report's pure parts: masking, the recommended-action rule, risk level, coverage intervals."""

from __future__ import annotations

import pytest

from examaudit.findings import Finding, FindingKind, Severity, Source
from examaudit.report.action import POLICE, RECTIFY, SUSPEND, NONE, recommend
from examaudit.report.mask import mask_id, mask_name, mask_phone, mask_text, mask_value
from examaudit.report.model import fmt_footage, risk_view, sample_intervals


def _f(kind: FindingKind, sev: Severity, conf: float = 0.9, start: float = 0.0) -> Finding:
    return Finding.create(kind=kind, source=Source.records, severity=sev, confidence=conf, start_s=start,
                          reason_zh=f"{kind.value} 原因", reason_en=f"{kind.value} reason")


def test_masks():
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_text("身份证11010519491231002X电话13812345678。") == "身份证110105********002X电话138****5678。"
    assert mask_value("身份证号", "11010519491231002X") == "110105********002X"
    assert mask_value("details", {"id_number": "11010519491231002X", "n": 3}) == {"id_number": "110105********002X", "n": 3}
    assert mask_text("准考证号 Z2024000123456") == "准考证号 Z2024000123456"  # not an ID number


@pytest.mark.parametrize("findings, actions", [
    ([], [NONE]),
    ([(FindingKind.footage_gap, Severity.low)], [NONE]),
    ([(FindingKind.footage_gap, Severity.medium)], [RECTIFY]),
    ([(FindingKind.footage_gap, Severity.high)], [RECTIFY]),
    ([(FindingKind.footage_gap, Severity.high), (FindingKind.camera_covered, Severity.high)], [SUSPEND]),
    ([(FindingKind.score_bunching, Severity.critical)], [SUSPEND]),
    ([(FindingKind.splice, Severity.high)], [SUSPEND]),
    ([(FindingKind.callback_not_in_person, Severity.high)], [SUSPEND, POLICE]),
    ([(FindingKind.callback_not_in_person, Severity.medium)], [RECTIFY]),
    ([(FindingKind.looped_segment, Severity.high), (FindingKind.certificate_without_pass, Severity.medium)], [SUSPEND, POLICE]),
])
def test_recommended_action_rule(findings, actions):
    rec = recommend([_f(k, s, start=i) for i, (k, s) in enumerate(findings)])
    assert rec.actions == actions
    for a in actions:
        if a != NONE:
            assert rec.triggers[a]


def test_low_confidence_does_not_trigger():
    assert recommend([_f(FindingKind.callback_not_in_person, Severity.critical, conf=0.3)]).actions == [NONE]


def test_risk_levels_and_reasons():
    assert risk_view([], "zh", False).level == "risk_none"
    assert risk_view([_f(FindingKind.footage_gap, Severity.low)], "zh", False).level == "risk_low"
    assert risk_view([_f(FindingKind.footage_gap, Severity.high)], "zh", False).level == "risk_medium"
    many = [_f(FindingKind.footage_gap, Severity.high, start=i) for i in range(3)] + \
           [_f(FindingKind.score_bunching, Severity.medium), _f(FindingKind.camera_covered, Severity.medium, start=9)]
    r = risk_view(many, "en", False)
    assert r.level == "risk_high" and len(r.reasons) == 3
    assert r.reasons[0] == "footage_gap reason" and len(set(r.reasons)) == 3  # distinct kinds
    assert r.counts["high"] == 3


def test_sample_intervals_join_and_split():
    assert sample_intervals([0, 1, 2, 3, 10, 11], 1.0) == [(0, 4.0), (10, 12.0)]
    assert sample_intervals([], 1.0) == []
    assert fmt_footage(3725.25) == "1:02:05.2" and fmt_footage(65) == "01:05.0"


def test_validation_values_are_masked_by_their_column():
    from examaudit.report.model import _table

    rows = [{"file": "roster.csv", "row": "7", "column": "id_number", "value": "1101051949123100", "reason": "length"}]
    assert _table(rows, False).rows[0][3] == "110105******3100"
    assert _table(rows, True).rows[0][3] == "1101051949123100"
