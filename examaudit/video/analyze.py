"""Analyse one recording: ingest, bitstream pass, sampling, per-sample checks, findings.

This is the library function the CLI, the web app and batch runs all call. It reads the
file (the edge) and returns plain data: the recording's probe, the packet timeline, one row
per sample for ``samples.csv``, and findings with their evidence pictures encoded in memory.
Nothing is written here; :func:`write_analysis` does that.

The per-sample work is done by *checks* (integrity, people, ...). A check sees each sample
once, adds its columns to that sample's row and keeps only small state (thumbnails and crops,
about 30 KB a sample), so memory grows by tens of MB per hour of footage rather than with its
pixels; at the end it turns its rows into :class:`Draft` findings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from ..config import Camera, ExamPointConfig
from ..errors import InputError, displayable
from ..findings import (
    Evidence,
    Finding,
    FindingKind,
    FindingsDocument,
    InputFile,
    RunInfo,
    Severity,
    Source,
    now_utc,
    write_findings,
)
from ..outputs import write_csv
from .bitstream import PacketTimeline, read_packets, timeline_breaks
from .evidence import EvidenceImage, encode_jpeg, frames_at
from .ingest import Recording, ingest
from .native_memory import return_free_memory
from .people_rules import PeopleThresholds
from .sampler import Sample, SamplingStats, iter_samples


@dataclass
class Draft:
    """A finding before ids, wall-clock times and evidence files are attached."""

    kind: FindingKind
    severity: Severity
    start_s: float | None
    end_s: float | None
    confidence: float
    reason_zh: str
    reason_en: str
    details: dict[str, Any] = field(default_factory=dict)
    #: (seconds into the footage, caption) of the pictures that prove it.
    frames: list[tuple[float, str]] = field(default_factory=list)
    #: what to draw on those pictures: {"boxes": [[x1,y1,x2,y2], ...], "polygons": [...]}.
    overlay: dict[str, Any] = field(default_factory=dict)
    candidate_id: str | None = None
    evidence_images: list[EvidenceImage] = field(default_factory=list)
    #: wall-clock span for findings about time the footage does not contain (start_s None).
    wall_span: tuple[datetime, datetime] | None = None


@dataclass
class CameraContext:
    """Where the footage comes from, as far as the exam-point config says."""

    exam_point: str | None = None
    room: str | None = None
    camera_id: str | None = None
    camera: Camera | None = None
    config: ExamPointConfig | None = None
    #: (width, height) of the footage's own pictures, which config pixel coordinates refer to;
    #: set by :func:`analyze_recording` from the probe.
    frame_size: tuple[int, int] | None = None

    @classmethod
    def from_config(cls, cfg: ExamPointConfig, camera_id: str) -> "CameraContext":
        room, cam = cfg.camera(camera_id)
        return cls(exam_point=cfg.exam_point, room=room.id, camera_id=cam.id, camera=cam, config=cfg)

    def wall_start(self) -> datetime | None:
        if self.camera is not None and self.camera.footage_start is not None and self.config is not None:
            return self.config.aware(self.camera.footage_start)
        return None


class SampleCheck(Protocol):
    """A per-sample analysis that streams over samples and reports drafts at the end."""

    name: str

    def observe(self, sample: Sample, row: dict[str, Any]) -> None: ...

    def finish(self, rows: list[dict[str, Any]]) -> list[Draft]: ...

    # Optional: ``end_sampling()`` is called on every check after the last sample and before
    # any ``finish``, so that a check can free what only sampling needed (a detector session)
    # before the other checks' ``finish`` run.


#: Samples between heap trims while sampling (see ``native_memory``): ~1 ms per trim.
_TRIM_EVERY = 100


@dataclass
class AnalyzeParams:
    """Parameters of a video analysis; all of them go into the run metadata.

    Attributes:
        every_s: sampling interval in seconds of footage. 5 s suits a 60–120 minute session:
            a person must stay minutes to matter, and boundaries land within 10 s.
        max_width: analyse pictures downscaled to this width (evidence stays full size).
        people: run the person detector.
        people_thresholds: when people in the picture become findings (see :class:`PeopleThresholds`).
        integrity: run the tamper checks (black, covered, defocused, moved, frozen, loops, splices).
        osd: read the burned-in clock (OCR of small crops) and check it against the timeline.
        fps: frame rate for footage whose packets carry no timestamps (raw .h264/.265);
            None uses the rate the stream states, else 25.
    """

    every_s: float = 5.0
    max_width: int | None = 1280
    people: bool = True
    people_thresholds: PeopleThresholds = field(default_factory=PeopleThresholds)
    integrity: bool = True
    osd: bool = True
    fps: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"every_s": self.every_s, "max_width": self.max_width, "people": self.people,
                "integrity": self.integrity, "osd": self.osd}
        if self.fps is not None:
            out["fps"] = self.fps
        out["people_thresholds"] = self.people_thresholds.as_dict()
        return out


@dataclass
class RecordingAnalysis:
    """Everything :func:`analyze_recording` learned about one recording."""

    recording: Recording
    timeline: PacketTimeline
    sampling: SamplingStats
    rows: list[dict[str, Any]]
    findings: list[Finding]
    images: list[EvidenceImage]
    params: AnalyzeParams
    context: CameraContext
    started_at: datetime
    finished_at: datetime
    #: per-session coverage (see :mod:`.coverage`), when the schedule and wall clock are known.
    coverage: list[dict[str, Any]] | None = None
    #: tables the checks hand to :func:`write_analysis` (``seats.csv`` rows, proposed seats, stats).
    outputs: dict[str, Any] = field(default_factory=dict)
    #: where the footage times come from (see :func:`timing_of`).
    timing: dict[str, Any] = field(default_factory=dict)

    def document(self, command: str) -> FindingsDocument:
        rec = self.recording
        inputs = [InputFile(role="footage", path=displayable(rec.path), sha256=rec.sha256, size_bytes=rec.size_bytes)]
        model = (self.outputs.get("people_stats") or {}).get("model")
        if model:
            inputs.append(InputFile(role="detector_model", **model))
        return FindingsDocument(
            run=RunInfo(
                command=command,
                started_at=self.started_at,
                finished_at=self.finished_at,
                inputs=inputs,
                parameters=self.params.as_dict(),
                stats={
                    "sampling": self.sampling.as_dict(),
                    "packets": len(self.timeline),
                    "gop_s": self.timeline.gop_s,
                    "people": self.outputs.get("people_stats"),
                    "timing": self.timing,
                    "demux_errors": [{"t_s": None if t != t else round(t, 3), "error": e}
                                     for t, e in self.timeline.errors],
                },
            ),
            findings=self.findings,
        )


def timeline_drafts(tl: PacketTimeline) -> list[Draft]:
    """Findings from the packet timeline alone: holes, backward steps, damaged stretches."""
    drafts: list[Draft] = []
    for b in timeline_breaks(tl):
        if b.kind == "gap":
            drafts.append(
                Draft(
                    FindingKind.footage_gap,
                    Severity.high if b.missing_s >= 60 else Severity.medium,
                    b.start_s,
                    b.end_s,
                    0.99,
                    f"录像时间轴在 {b.start_s:.1f} 秒处中断 {b.missing_s:.1f} 秒，期间无画面。",
                    f"The footage timeline breaks at {b.start_s:.1f} s: {b.missing_s:.1f} s have no pictures.",
                    {"missing_s": round(b.missing_s, 3)},
                    frames=[(b.start_s, "中断前 / before the gap"), (b.end_s, "中断后 / after the gap")],
                )
            )
        elif b.kind == "backwards":
            lo, hi = sorted((b.start_s, b.end_s))
            drafts.append(
                Draft(
                    FindingKind.timestamp_backwards,
                    Severity.high,
                    lo,
                    hi,
                    0.95,
                    f"录像时间戳从 {b.start_s:.1f} 秒倒退到 {b.end_s:.1f} 秒，可能经过剪辑拼接。",
                    f"The footage timestamps step back from {b.start_s:.1f} s to {b.end_s:.1f} s, a sign of editing.",
                    {"step_s": round(b.missing_s, 3)},
                )
            )
    return drafts


def damage_drafts(tl: PacketTimeline, stats: SamplingStats, declared_s: float | None) -> list[Draft]:
    """One ``video_unreadable`` finding for corrupt packets, decode errors and missing tails.

    The declared duration (container header) against the packets actually present is what
    exposes a recording cut short after it was written.
    """
    errors = [(t, e) for t, e in tl.errors + stats.errors]
    readable = tl.duration_s
    # Missing more than a few frames and 2 % of the length: short clips count too (a 1 s
    # Matroska cut to 0.4 s), while rounding and a last frame's duration do not.
    short = (declared_s is not None and len(tl) > 0
             and declared_s - readable > max(0.5, 3 * tl.frame_interval_s, 0.02 * declared_s))
    if not errors and not short:
        return []
    times = [t for t, _ in errors if t == t]
    first = min(times) if times else readable
    end = max(first, declared_s if short else (max(times) if times else readable))
    zh = f"录像自 {first:.1f} 秒起有 {len(errors)} 处损坏"
    en = f"The footage has {len(errors)} damaged place(s) from {first:.1f} s"
    if short:
        zh += f"，文件声明时长 {declared_s:.1f} 秒，实际只能读取 {readable:.1f} 秒"
        en += f"; it declares {declared_s:.1f} s but only {readable:.1f} s can be read"
    return [
        Draft(
            FindingKind.video_unreadable,
            Severity.high if short else Severity.medium,
            max(0.0, first),
            end,
            0.9,
            zh + "；损坏之前的内容已照常分析。",
            en + "; everything before the damage was analysed as usual.",
            {
                "errors": [{"t_s": None if t != t else round(t, 3), "error": e} for t, e in errors[:20]],
                "error_count": len(errors),
                "declared_s": declared_s,
                "readable_s": round(readable, 3),
                "truncated": tl.truncated or short,
            },
        )
    ]


def timing_of(tl: PacketTimeline, rec: Recording, params: AnalyzeParams) -> dict[str, Any]:
    """Where footage times come from, for recording.json, findings.json and the report."""
    if tl.derived_fps is None:
        return {"timestamps": "container", "origin_pts": tl.origin_pts, "time_base": tl.time_base}
    if params.fps is not None:
        source = "--fps"
    elif rec.video.fps is not None:
        source = "stream"  # the SPS/VPS timing the camera wrote
    else:
        source = "assumed"  # nothing stated: FFmpeg's and most cameras' 25 fps
    implausible = tl.derived_why == "implausible"
    return {
        "timestamps": "derived",
        "fps": tl.derived_fps,
        "fps_source": source,
        "why": "implausible" if implausible else "none",
        "note_zh": ("该录像的时间戳不可信（帧间隔不足 1 毫秒）" if implausible else "该录像没有时间戳")
                   + f"，时间按帧序号和 {tl.derived_fps:g} 帧/秒推算"
                   + ({"--fps": "（--fps 指定）", "stream": "（码流声明）", "assumed": "（未声明，假定）"}[source]) + "。",
        "note_en": ("The recording's timestamps are implausible (frames less than 1 ms apart)" if implausible
                    else "The recording carries no timestamps")
                   + f": times are derived from frame numbers at {tl.derived_fps:g} fps "
                   + {"--fps": "(given with --fps)", "stream": "(as the stream states)",
                      "assumed": "(assumed; the stream states no rate)"}[source] + ".",
    }


def no_pictures_error(rec: Recording, tl: PacketTimeline, stats: SamplingStats) -> InputError:
    """The one-line error for a recording from which not a single picture decodes."""
    errors = tl.errors + stats.errors
    why = f"; first error: {errors[0][1]}" if errors else ""
    return InputError(f"no picture could be decoded ({len(tl)} video packets read, {stats.frames_decoded} frames "
                      f"decoded{why}); nothing about its timestamps can be judged", path=rec.path)


def default_checks(params: AnalyzeParams, ctx: CameraContext) -> list[SampleCheck]:
    """The checks ``analyze`` runs by default.

    Integrity comes first: it sets ``row["trusted"]``, which the people checks read in their
    own ``finish``.
    """
    checks: list[SampleCheck] = []
    if params.integrity:
        from .integrity import IntegrityCheck

        checks.append(IntegrityCheck(every_s=params.every_s))
    if params.osd:
        from .osd import OsdClockCheck

        checks.append(OsdClockCheck())
    if params.people:
        from .headcount import HeadcountCheck

        checks.append(HeadcountCheck(ctx, thresholds=params.people_thresholds))
    return checks


def analyze_recording(
    path: str | Path,
    *,
    context: CameraContext | None = None,
    params: AnalyzeParams | None = None,
    checks: list[SampleCheck] | None = None,
    progress: Callable[[float], None] | None = None,
) -> RecordingAnalysis:
    """Analyse one recording and return rows and findings (nothing is written).

    Raises:
        InputError: the file is missing, empty, not a video or has no video stream.
    """
    started = now_utc()
    params = params or AnalyzeParams()
    ctx = context or CameraContext()
    rec = ingest(path)
    if ctx.frame_size is None:
        ctx.frame_size = (rec.video.width, rec.video.height)
    if rec.reader == "pyav":
        tl = read_packets(rec.path, fps=params.fps or rec.video.fps or 25.0)
    else:
        tl = PacketTimeline(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, bool), 1.0)
    checks = default_checks(params, ctx) if checks is None else checks
    stats = SamplingStats()
    rows: list[dict[str, Any]] = []
    wall0 = ctx.wall_start()
    for sample in iter_samples(
        rec.path,
        params.every_s,
        gop_s=tl.gop_s,
        total_frames=len(tl) or None,
        stats=stats,
        max_width=params.max_width,
        progress=progress,
        reader=rec.reader,
        origin_pts=tl.origin_pts,
        derived_fps=tl.derived_fps,
    ):
        row: dict[str, Any] = {"t_s": round(sample.t_s, 3)}
        if wall0 is not None:
            row["wall_time"] = (wall0 + timedelta(seconds=sample.t_s)).isoformat(timespec="seconds")
        row["pts"] = sample.pts
        row["keyframe"] = sample.keyframe
        for check in checks:
            check.observe(sample, row)
        rows.append(row)
        if len(rows) % _TRIM_EVERY == 0:
            return_free_memory()
    for check in checks:
        if hasattr(check, "end_sampling"):
            check.end_sampling()
    return_free_memory()
    if stats.samples == 0:
        # Not one picture: every timestamp claim would rest on packets nobody can look at.
        raise no_pictures_error(rec, tl, stats)
    timing = timing_of(tl, rec, params)
    drafts = timeline_drafts(tl) + damage_drafts(tl, stats, rec.duration_s if rec.declares_duration else None)
    if params.integrity:
        from .integrity import frame_rate_drafts

        drafts.extend(frame_rate_drafts(tl.t_s))
    for check in checks:
        if hasattr(check, "bind_timeline"):
            check.bind_timeline(tl)
        drafts.extend(check.finish(rows))
        return_free_memory()
    if wall0 is None:
        from .osd import wall_start_from_checks

        wall0 = wall_start_from_checks(checks, ctx.config.tz if ctx.config is not None else None)
        if wall0 is not None:
            for row in rows:
                row["wall_time"] = (wall0 + timedelta(seconds=row["t_s"])).isoformat(timespec="seconds")
    coverage = None
    if ctx.config is not None and ctx.config.sessions and wall0 is not None:
        from .coverage import coverage_drafts, session_coverage

        spans = session_coverage(ctx.config.sessions_for_room(ctx.room or ""), wall0, rows, params.every_s,
                                 tz=ctx.config.tz)
        coverage = [c.as_dict() for c in spans]
        drafts.extend(coverage_drafts(spans, wall0))
    findings, images = finalise_drafts(drafts, rec.path, rec.reader, ctx, wall0, params, timing=timing)
    if progress:
        progress(1.0)
    result = RecordingAnalysis(rec, tl, stats, rows, findings, images, params, ctx, started, now_utc(), coverage,
                               timing=timing)
    for check in checks:
        result.outputs.update(getattr(check, "outputs", dict)())
    return result


def finalise_drafts(
    drafts: list[Draft], path: Path, reader: str, ctx: CameraContext, wall0: datetime | None, params: AnalyzeParams,
    *, timing: dict[str, Any] | None = None,
) -> tuple[list[Finding], list[EvidenceImage]]:
    """Attach ids, wall-clock times and evidence pictures (decoded from ``path``) to drafts.

    ``analyze`` calls it for its own drafts; ``audit`` for the drafts it makes later from a
    recording's rows (the headcount against the records). ``timing`` (see :func:`timing_of`)
    says where footage second 0 is. A picture that cannot be decoded is listed in the
    finding's ``details.missing_frames``; it never fails the run."""
    from .draw import draw_overlay

    path = Path(path)
    timing = timing or {}
    want = [t for d in drafts for t, _ in d.frames]
    pictures = frames_at(path, want, reader=reader, origin_pts=timing.get("origin_pts"),
                         derived_fps=timing.get("fps") if timing.get("timestamps") == "derived" else None) if want else {}
    findings: list[Finding] = []
    images: list[EvidenceImage] = []
    stem = displayable(path.stem)
    for d in drafts:
        evidence: list[Evidence] = []
        pics = list(d.evidence_images)
        missing = []
        for t, caption in d.frames:
            img = pictures.get(round(float(t), 3))
            if img is None:
                missing.append({"t_s": round(float(t), 3), "caption": caption})
                continue
            drawn = draw_overlay(img, d.overlay, caption=f"{caption}  t={t:.1f}s", scale_from=params.max_width)
            pics.append(EvidenceImage(f"{stem}_{d.kind.value}_{t:09.2f}.jpg", encode_jpeg(drawn), t, caption))
        for pic in pics:
            evidence.append(Evidence(type="frame", path=f"frames/{pic.name}", sha256=pic.sha256, t_s=pic.t_s, caption=pic.caption))
        details = dict(d.details)
        if missing:
            details["missing_frames"] = missing
        images.extend(pics)
        wall = {}
        if d.wall_span is not None:
            wall = {"wall_start": d.wall_span[0], "wall_end": d.wall_span[1]}
        elif wall0 is not None:
            if d.start_s is not None:
                wall["wall_start"] = wall0 + timedelta(seconds=d.start_s)
            if d.end_s is not None:
                wall["wall_end"] = wall0 + timedelta(seconds=d.end_s)
        findings.append(
            Finding.create(
                kind=d.kind,
                source=Source.video,
                severity=d.severity,
                exam_point=ctx.exam_point,
                room=ctx.room,
                camera=ctx.camera_id,
                recording=displayable(path.name),
                candidate_id=d.candidate_id,
                start_s=None if d.start_s is None else round(max(0.0, d.start_s), 3),
                end_s=None if d.end_s is None else round(max(0.0, d.end_s), 3),
                confidence=round(float(np.clip(d.confidence, 0, 1)), 3),
                evidence=evidence,
                reason_zh=d.reason_zh,
                reason_en=d.reason_en,
                details=details,
                **wall,
            )
        )
    return findings, images


def write_analysis(result: RecordingAnalysis, out_dir: Path, command: str) -> None:
    """Write findings.json, samples.csv, recording.json and evidence frames into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames_dir = out_dir / "frames"
    frames_dir.mkdir(exist_ok=True)
    for pic in result.images:
        (frames_dir / pic.name).write_bytes(pic.data)
    write_findings(result.document(command), out_dir / "findings.json")
    write_csv(out_dir / "samples.csv", result.rows, columns=sample_columns(result.rows))
    if result.outputs.get("seats"):
        write_csv(out_dir / "seats.csv", result.outputs["seats"], columns=list(SEATS_COLUMNS))
    if result.outputs.get("proposed_seats"):
        write_proposed_seats(result.outputs["proposed_seats"], result.context, out_dir / "proposed_seats.yaml")
    if result.coverage is not None:
        (out_dir / "coverage.json").write_text(json.dumps(result.coverage, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    probe = result.recording.to_dict()
    probe["timing"] = result.timing
    probe["timeline"] = {
        "packets": len(result.timeline),
        "gop_s": result.timeline.gop_s,
        "frame_interval_s": result.timeline.frame_interval_s,
        "duration_s": result.timeline.duration_s,
        "truncated": result.timeline.truncated,
    }
    (out_dir / "recording.json").write_text(json.dumps(probe, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


#: Column order of samples.csv: time first, then picture quality, clock, people; per-seat
#: columns (``seat_<n>``) and any other column a custom check adds follow in first-seen order.
#: Fixed, so that the order does not depend on which check happened to fill a column first.
SAMPLE_COLUMNS = (
    "t_s", "wall_time", "pts", "keyframe",
    "brightness", "sharpness", "edge_density", "entropy", "still_diff", "phash", "shift_px", "quality", "trusted",
    "osd_text", "osd_offset_s",
    "detections", "detection_reused", "persons", "seated", "standing", "invigilators", "tracks",
)


def sample_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The samples.csv header for these rows: :data:`SAMPLE_COLUMNS` present, then the rest."""
    present: dict[str, None] = {}
    for r in rows:
        present.update(dict.fromkeys(r))
    return [c for c in SAMPLE_COLUMNS if c in present] + [c for c in present if c not in SAMPLE_COLUMNS]


SEATS_COLUMNS = ("seat", "candidate_id", "first_seen_s", "last_seen_s", "minutes_present", "first_seen_wall", "last_seen_wall")


def write_proposed_seats(seats: list[dict[str, Any]], ctx: CameraContext, path: Path) -> None:
    """Write a seat map proposed from the footage, for an auditor to check and paste into the config."""
    import yaml

    doc = {
        "camera": ctx.camera_id,
        "note": "proposed from where people sat in this footage; check every polygon before use",
        "seats": [{"seat": s["seat"], "polygon": s["polygon"], "support": s.get("support")} for s in seats],
    }
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
