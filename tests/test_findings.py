import json
from datetime import datetime

import jsonschema
import pytest
from pydantic import ValidationError

from examaudit.findings import (
    KIND_TITLES,
    SCHEMA_PATH,
    Finding,
    FindingKind,
    FindingsDocument,
    RunInfo,
    Severity,
    Source,
    findings_json_schema,
    now_utc,
)


def _finding(**kw):
    base = dict(kind=FindingKind.camera_covered, source=Source.video, severity=Severity.high, confidence=0.8,
                reason_zh="镜头被遮挡。", reason_en="The lens was covered.", start_s=1.0, end_s=5.0)
    base.update(kw)
    return Finding.create(**base)


def test_committed_schema_is_current():
    # If this fails, run `make schema` and commit the file (and bump SCHEMA_VERSION if needed).
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == findings_json_schema()


def test_every_kind_has_titles_and_required_kinds_exist():
    assert set(KIND_TITLES) == set(FindingKind)
    required = {"footage_gap", "timestamp_jump", "timestamp_backwards", "timestamp_frozen", "frozen_video",
                "looped_segment", "camera_covered", "camera_defocused", "camera_moved", "video_black",
                "video_unreadable", "extra_person", "absent_candidate", "candidate_left", "person_lingering",
                "invigilator_absent", "headcount_mismatch"}
    assert required <= {k.value for k in FindingKind}


def test_document_validates_against_committed_schema():
    doc = FindingsDocument(run=RunInfo(command="t", started_at=now_utc(), finished_at=now_utc()),
                           findings=[_finding(), _finding(kind=FindingKind.frozen_video, start_s=9.0, end_s=20.0)])
    data = json.loads(doc.model_dump_json())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    data["findings"][0]["severity"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_ids_are_stable_and_distinct():
    assert _finding().id == _finding().id
    assert _finding().id != _finding(start_s=2.0).id
    assert _finding().id.startswith("video-camera_covered-")


def test_invalid_findings_are_rejected():
    with pytest.raises(ValidationError, match="before start_s"):
        _finding(start_s=10.0, end_s=2.0)
    with pytest.raises(ValidationError):
        _finding(confidence=1.5)
    with pytest.raises(ValidationError, match="offset"):
        _finding(wall_start=datetime(2024, 6, 20, 9, 0))


def test_sorted_puts_severe_first():
    doc = FindingsDocument(run=RunInfo(command="t", started_at=now_utc(), finished_at=now_utc()),
                           findings=[_finding(severity=Severity.low), _finding(severity=Severity.critical, start_s=3.0)])
    assert [f.severity for f in doc.sorted().findings] == [Severity.critical, Severity.low]


def test_readme_documents_every_kind():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [k.value for k in FindingKind if f"| `{k.value}` |" not in readme]
    assert not missing, f"README kind table lacks {missing}"


def test_numpy_details_become_plain_json():
    import numpy as np

    f = _finding(details={"n": np.int64(3), "x": np.float32(0.5), "arr": np.arange(3), "nan": float("nan"),
                          "nested": {"k": [np.bool_(True)]}})
    data = json.loads(f.model_dump_json())["details"]
    assert data == {"n": 3, "x": 0.5, "arr": [0, 1, 2], "nan": None, "nested": {"k": [True]}}


def test_write_findings_replaces_the_file_whole(tmp_path):
    """The server's pages read findings.json while an audit rewrites it: a reader that opened the old
    file reads all of it (not a truncated or half-written one), and the path then holds the new one."""
    from examaudit.findings import read_findings, write_findings

    path = tmp_path / "findings.json"
    run = RunInfo(command="t", started_at=now_utc(), finished_at=now_utc())
    write_findings(FindingsDocument(run=run, findings=[_finding()]), path)
    before = path.read_text(encoding="utf-8")
    with open(path, encoding="utf-8") as reader:
        write_findings(FindingsDocument(run=run, findings=[_finding(start_s=7.0, end_s=9.0)] * 40), path)
        assert reader.read() == before
    assert len(read_findings(path).findings) == 40  # the new document, whole
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]  # no temporary file left
