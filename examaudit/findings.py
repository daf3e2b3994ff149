"""The Finding model: what every analysis step reports, and what reports and packs consume.

A finding is one irregularity an auditor may have to act on. Every finding carries its
evidence (time range, frames, numbers) and one sentence in Chinese and in English that an
auditor can read aloud. ``findings.json`` is a :class:`FindingsDocument`; its JSON Schema is
generated from these models and committed as ``examaudit/schemas/findings.schema.json``.

Example:
    >>> f = Finding.create(kind=FindingKind.camera_covered, source=Source.video,
    ...     severity=Severity.high, exam_point="EP1", camera="C1", start_s=10.0, end_s=42.0,
    ...     confidence=0.9, reason_zh="镜头被遮挡32秒。", reason_en="The lens was covered for 32 s.")
    >>> f.id.startswith("video-camera_covered-")
    True
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import __version__
from .outputs import replace_file

#: Bumped on any change to the models below that a consumer could notice.
SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "findings.schema.json"


class Severity(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Source(str, Enum):
    video = "video"
    records = "records"
    callbacks = "callbacks"
    certificates = "certificates"
    fusion = "fusion"


class FindingKind(str, Enum):
    """The fixed list of finding kinds. ``KIND_TITLES`` names each in Chinese and English."""

    # footage integrity
    footage_gap = "footage_gap"
    timestamp_jump = "timestamp_jump"
    timestamp_backwards = "timestamp_backwards"
    timestamp_frozen = "timestamp_frozen"
    timestamp_drift = "timestamp_drift"
    frame_rate_change = "frame_rate_change"
    frozen_video = "frozen_video"
    looped_segment = "looped_segment"
    splice = "splice"
    camera_covered = "camera_covered"
    camera_defocused = "camera_defocused"
    camera_moved = "camera_moved"
    video_black = "video_black"
    video_overexposed = "video_overexposed"
    video_unreadable = "video_unreadable"
    #: an original no longer hashes to what was received: the audit of that exam point stops
    evidence_integrity = "evidence_integrity"
    # people in the room
    extra_person = "extra_person"
    absent_candidate = "absent_candidate"
    candidate_left = "candidate_left"
    person_lingering = "person_lingering"
    invigilator_absent = "invigilator_absent"
    headcount_mismatch = "headcount_mismatch"
    # records forensics
    invalid_record = "invalid_record"
    invalid_id_number = "invalid_id_number"
    duplicate_person = "duplicate_person"
    duplicate_certificate = "duplicate_certificate"
    pass_rate_outlier = "pass_rate_outlier"
    score_bunching = "score_bunching"
    completion_time_anomaly = "completion_time_anomaly"
    response_time_aberrance = "response_time_aberrance"
    rapid_correct_answers = "rapid_correct_answers"
    item_preknowledge = "item_preknowledge"
    item_compromise = "item_compromise"
    person_misfit = "person_misfit"
    answer_similarity = "answer_similarity"
    similarity_cluster = "similarity_cluster"
    # callbacks
    callback_not_in_person = "callback_not_in_person"
    callback_rate_outlier = "callback_rate_outlier"
    # certificates
    certificate_without_pass = "certificate_without_pass"
    pass_without_certificate = "pass_without_certificate"
    multiple_certificates = "multiple_certificates"
    certificate_absent_on_video = "certificate_absent_on_video"
    # fusion
    exam_point_outlier = "exam_point_outlier"
    exam_point_risk = "exam_point_risk"


#: kind -> (中文名称, English title). The README's kind table is generated from this.
KIND_TITLES: dict[FindingKind, tuple[str, str]] = {
    FindingKind.footage_gap: ("录像缺失", "Footage gap"),
    FindingKind.timestamp_jump: ("时间戳跳变", "Timestamp jump"),
    FindingKind.timestamp_backwards: ("时间戳倒退", "Timestamp goes backwards"),
    FindingKind.timestamp_frozen: ("画面时钟停走", "On-screen clock frozen"),
    FindingKind.timestamp_drift: ("时钟漂移", "Clock drift"),
    FindingKind.frame_rate_change: ("帧率变化", "Frame-rate change"),
    FindingKind.frozen_video: ("画面冻结", "Frozen video"),
    FindingKind.looped_segment: ("录像循环回放", "Looped or replayed segment"),
    FindingKind.splice: ("录像拼接", "Splice"),
    FindingKind.camera_covered: ("镜头遮挡", "Camera covered"),
    FindingKind.camera_defocused: ("镜头失焦", "Camera defocused"),
    FindingKind.camera_moved: ("摄像机移位", "Camera moved"),
    FindingKind.video_black: ("黑屏", "Black video"),
    FindingKind.video_overexposed: ("画面过曝", "Over-exposed video"),
    FindingKind.video_unreadable: ("录像无法读取", "Video unreadable"),
    FindingKind.evidence_integrity: ("原始证据被改动", "Original evidence changed"),
    FindingKind.extra_person: ("考场人数超员", "Extra person in the room"),
    FindingKind.absent_candidate: ("考生缺席", "Absent candidate"),
    FindingKind.candidate_left: ("考生迟到或提前离场", "Candidate late or left early"),
    FindingKind.person_lingering: ("人员在考位旁逗留", "Person lingering by a seat"),
    FindingKind.invigilator_absent: ("监考人员缺位", "Invigilator absent"),
    FindingKind.headcount_mismatch: ("人数与记录不符", "Headcount does not match records"),
    FindingKind.invalid_record: ("记录数据无效", "Invalid record"),
    FindingKind.invalid_id_number: ("身份证号校验失败", "Invalid ID number"),
    FindingKind.duplicate_person: ("人员重复", "Duplicate person"),
    FindingKind.duplicate_certificate: ("证书编号重复", "Duplicate certificate"),
    FindingKind.pass_rate_outlier: ("通过率异常", "Pass-rate outlier"),
    FindingKind.score_bunching: ("分数堆积于及格线", "Scores bunched at the pass mark"),
    FindingKind.completion_time_anomaly: ("答题用时异常", "Completion-time anomaly"),
    FindingKind.response_time_aberrance: ("作答时间异常", "Response-time aberrance"),
    FindingKind.rapid_correct_answers: ("快速且正确作答", "Rapid correct answers"),
    FindingKind.item_preknowledge: ("疑似提前知悉试题", "Suspected item preknowledge"),
    FindingKind.item_compromise: ("试题疑似泄露", "Item compromised (leaked)"),
    FindingKind.person_misfit: ("作答模式不拟合", "Person misfit"),
    FindingKind.answer_similarity: ("答案雷同", "Answer similarity"),
    FindingKind.similarity_cluster: ("雷同答卷群", "Similarity cluster"),
    FindingKind.callback_not_in_person: ("回访称未亲自参考", "Callback: did not sit in person"),
    FindingKind.callback_rate_outlier: ("回访异常率偏高", "Callback rate outlier"),
    FindingKind.certificate_without_pass: ("无合格记录发证", "Certificate without a pass"),
    FindingKind.pass_without_certificate: ("合格未按期发证", "Pass without certificate"),
    FindingKind.multiple_certificates: ("一人多证", "Several certificates of one type"),
    FindingKind.certificate_absent_on_video: ("缺考仍发证", "Certificate for a candidate absent on video"),
    FindingKind.exam_point_outlier: ("考点多维异常", "Exam-point multivariate outlier"),
    FindingKind.exam_point_risk: ("考点综合风险", "Exam-point risk"),
}


class Evidence(BaseModel):
    """A file that backs a finding: a frame, a clip, a crop or a records extract.

    ``path`` is relative to the directory that holds ``findings.json``, so an output folder
    or an evidence pack can be moved as a whole.
    """

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="frame | clip | crop | file | chart")
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    t_s: float | None = Field(default=None, description="seconds into the footage, for frames")
    caption: str | None = None


class Finding(BaseModel):
    """One irregularity, with its evidence and a plain reason in both languages."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    id: str
    kind: FindingKind
    severity: Severity
    source: Source
    exam_point: str | None = None
    room: str | None = None
    camera: str | None = None
    session: str | None = None
    candidate_id: str | None = None
    recording: str | None = Field(default=None, description="file name of the footage")
    start_s: float | None = Field(default=None, ge=0, description="seconds into the footage")
    end_s: float | None = Field(default=None, ge=0)
    wall_start: datetime | None = Field(default=None, description="ISO 8601 with offset")
    wall_end: datetime | None = None
    confidence: float = Field(ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list)
    reason_zh: str = Field(min_length=1)
    reason_en: str = Field(min_length=1)
    details: dict[str, Any] = Field(default_factory=dict)

    @field_validator("details", mode="before")
    @classmethod
    def _plain_details(cls, v: Any) -> Any:
        # Analysis code hands over numpy scalars and arrays; JSON needs plain numbers.
        return _plain(v)

    @field_validator("wall_start", "wall_end")
    @classmethod
    def _wall_clock_has_offset(cls, v: datetime | None) -> datetime | None:
        # A wall-clock time without an offset is ambiguous across provinces' NVR settings.
        if v is not None and v.tzinfo is None:
            raise ValueError("wall-clock times must carry a UTC offset")
        return v

    @model_validator(mode="after")
    def _time_range_ordered(self) -> "Finding":
        if self.start_s is not None and self.end_s is not None and self.end_s < self.start_s:
            raise ValueError(f"end_s {self.end_s} is before start_s {self.start_s}")
        return self

    @classmethod
    def create(cls, *, kind: FindingKind, source: Source, **fields: Any) -> "Finding":
        """Build a finding whose ``id`` is derived from what it is about, so reruns agree."""
        key = json.dumps(
            [
                kind.value,
                source.value,
                fields.get("exam_point"),
                fields.get("room"),
                fields.get("camera"),
                fields.get("recording"),
                fields.get("session"),
                fields.get("candidate_id"),
                None if fields.get("start_s") is None else round(float(fields["start_s"]), 2),
                fields.get("details", {}).get("key"),
            ],
            ensure_ascii=False,
        )
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
        return cls(id=f"{source.value}-{kind.value}-{digest}", kind=kind, source=source, **fields)


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "tolist") and type(v).__module__ == "numpy":
        return _plain(v.tolist())
    if isinstance(v, float) and v != v:
        return None
    return v


class InputFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="footage | roster | scores | responses | callbacks | certificates | config | ...")
    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)


class RunInfo(BaseModel):
    """What produced a findings document: enough to rerun it and to defend it."""

    model_config = ConfigDict(extra="forbid")

    tool: str = "examaudit"
    tool_version: str = __version__
    command: str
    started_at: datetime
    finished_at: datetime
    inputs: list[InputFile] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict, description="what was decoded, skipped, rejected")


class FindingsDocument(BaseModel):
    """The content of ``findings.json``."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    run: RunInfo
    findings: list[Finding] = Field(default_factory=list)

    def sorted(self) -> "FindingsDocument":
        """Findings ordered most severe first, then by time, as auditors read them."""
        ordered = sorted(
            self.findings,
            key=lambda f: (-Severity(f.severity).rank, f.start_s if f.start_s is not None else -1.0, f.id),
        )
        return self.model_copy(update={"findings": ordered})


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def findings_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``findings.json``, generated from the pydantic models."""
    schema = FindingsDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://examaudit.invalid/schemas/findings-{SCHEMA_VERSION}.json"
    schema["title"] = "examaudit findings"
    return schema


def write_findings(doc: FindingsDocument, path: Path) -> None:
    replace_file(path, doc.sorted().model_dump_json(indent=2) + "\n")


def read_findings(path: Path) -> FindingsDocument:
    return FindingsDocument.model_validate_json(Path(path).read_text(encoding="utf-8"))


def merge_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Drop exact repeats (same id), keeping the first; analysis steps may overlap."""
    seen: dict[str, Finding] = {}
    for f in findings:
        seen.setdefault(f.id, f)
    return list(seen.values())
