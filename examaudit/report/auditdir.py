"""Reading an audit output directory: the one place that knows its layout.

``examaudit audit`` writes a directory whose shape is the contract the report, the evidence
pack and the forms consume (see ``docs`` / the audit issue)::

    audit.json  findings.json  custody.jsonl
    video/<camera>/<stem>/{findings.json, samples.csv, seats.csv, coverage.json, recording.json, frames/}
    records/{candidates.csv, exam_points.csv, findings.json, validation.csv, summary.json}

Colleagues add files over time, so everything except the directory itself is optional here:
a missing file is ``None`` and the consumers say "not provided".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..findings import Evidence, Finding, FindingsDocument, read_findings
from ..outputs import read_csv_rows


@dataclass
class RecordingEntry:
    """One recording the audit analysed, as ``audit.json`` lists it.

    Attributes:
        out: the recording's analysis folder (absolute), or None when it is not on disk.
        probe: the content of its ``recording.json`` (container, codec, duration, timeline).
    """

    room: str | None
    camera: str | None
    path: str | None
    sha256: str | None
    size_bytes: int | None
    probe: dict[str, Any]
    out: Path | None

    @property
    def name(self) -> str:
        if self.path:
            return Path(self.path).name
        return (self.out.name if self.out else "?")


@dataclass
class AuditDir:
    """The parsed content of an audit directory; absent parts are None or empty."""

    root: Path
    meta: dict[str, Any]
    findings: FindingsDocument | None
    recordings: list[RecordingEntry] = field(default_factory=list)

    @property
    def exam_point(self) -> str | None:
        return self.meta.get("exam_point") or (self.meta.get("config") or {}).get("exam_point")

    @property
    def custody_path(self) -> Path:
        return self.root / "custody.jsonl"

    @property
    def records_dir(self) -> Path | None:
        rec = self.meta.get("records", "records")
        if rec is None and not (self.root / "records").is_dir():
            return None
        d = self.root / (rec or "records")
        return d if d.is_dir() else None

    def recording_for(self, finding: Finding) -> RecordingEntry | None:
        for r in self.recordings:
            if finding.recording and r.name == finding.recording and (finding.camera in (None, r.camera)):
                return r
        if finding.camera:
            cams = [r for r in self.recordings if r.camera == finding.camera]
            if len(cams) == 1:
                return cams[0]
        return None

    def evidence_file(self, finding: Finding, ev: Evidence) -> Path | None:
        """Where an evidence file of a finding lies on disk.

        Paths in the merged ``findings.json`` may be relative to the audit directory or, when
        copied unchanged from a recording's own ``findings.json``, to that recording's folder.
        """
        candidates = [self.root / ev.path]
        rec = self.recording_for(finding)
        if rec is not None and rec.out is not None:
            candidates.append(rec.out / ev.path)
        if finding.source.value != "video" and self.records_dir is not None:
            candidates.append(self.records_dir / ev.path)
        for c in candidates:
            if _inside(c, self.root) and c.is_file():
                return c
        return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def read_json(path: Path) -> Any | None:
    """A JSON file's content, or None when the file is absent."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", path=path) from None


def _recordings(root: Path, meta: dict[str, Any]) -> list[RecordingEntry]:
    out: list[RecordingEntry] = []
    listed = meta.get("recordings")
    # An empty list is an answer (no footage, or an audit stopped on changed originals, whose stale
    # per-recording folders must not come back into the pack); only a missing key means "look".
    if listed is not None:
        for r in listed:
            folder = root / r["out"] if r.get("out") else None
            probe = r.get("probe") or (read_json(folder / "recording.json") if folder else None) or {}
            out.append(
                RecordingEntry(
                    r.get("room"), r.get("camera"), r.get("path"), r.get("sha256"), r.get("size_bytes"), probe,
                    folder if folder is not None and folder.is_dir() else None,
                )
            )
        return out
    # No audit.json (yet): discover video/<camera>/<stem>/recording.json.
    for rj in sorted(root.glob("video/*/*/recording.json")):
        probe = read_json(rj) or {}
        out.append(
            RecordingEntry(None, rj.parent.parent.name, probe.get("path"), probe.get("sha256"),
                           probe.get("size_bytes"), probe, rj.parent)
        )
    return out


def load_audit_dir(root: str | Path) -> AuditDir:
    """Parse an audit directory.

    Raises:
        InputError: the directory is missing, or a file in it is present but unreadable.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError("audit directory not found", path=root)
    meta = read_json(root / "audit.json") or {}
    findings = None
    fpath = root / "findings.json"
    if fpath.is_file():
        try:
            findings = read_findings(fpath)
        except ValueError as exc:
            raise InputError(f"not a valid findings document: {str(exc).splitlines()[0]}", path=fpath) from None
    return AuditDir(root=root, meta=meta, findings=findings, recordings=_recordings(root, meta))


@dataclass
class RecordingData:
    """A recording's analysis files; each is None when absent."""

    entry: RecordingEntry
    samples: list[dict[str, str]] | None
    seats: list[dict[str, str]] | None
    coverage: dict[str, Any] | None


@dataclass
class RecordsData:
    """The records analysis files; each is None when absent."""

    candidates: list[dict[str, str]] | None = None
    exam_points: list[dict[str, str]] | None = None
    validation: list[dict[str, str]] | None = None
    summary: dict[str, Any] | None = None


@dataclass
class ReportInputs:
    """Everything a report is drawn from, read once at the edge."""

    audit: AuditDir
    recordings: list[RecordingData]
    records: RecordsData
    custody: list[dict[str, Any]] | None
    custody_problems: list[str]


def load_report_inputs(audit: AuditDir) -> ReportInputs:
    """Read the optional files of an audit directory (samples, seats, coverage, records, custody)."""
    from ..custody import check_chain, read_custody

    recs = []
    for r in audit.recordings:
        d = r.out
        recs.append(RecordingData(
            r,
            read_csv_rows(d / "samples.csv") if d else None,
            read_csv_rows(d / "seats.csv") if d else None,
            read_json(d / "coverage.json") if d else None,
        ))
    rd = audit.records_dir
    records = RecordsData()
    if rd is not None:
        summary = read_json(rd / "summary.json")
        records = RecordsData(
            read_csv_rows(rd / "candidates.csv"), read_csv_rows(rd / "exam_points.csv"),
            read_csv_rows(rd / "validation.csv"), summary if isinstance(summary, dict) else None,
        )
    custody, problems = None, []
    if audit.custody_path.is_file():
        try:
            custody = read_custody(audit.custody_path)
            problems = check_chain(audit.custody_path)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems = [f"custody.jsonl is not valid JSON lines: {exc}"]
    return ReportInputs(audit, recs, records, custody, problems)
