"""Audit one exam point: every recording its YAML lists, plus its records, into one folder.

The exam-point directory convention::

    EXAM_POINT_DIR/
      exam_point.yaml       rooms, cameras (with their footage files), seats, sessions
      footage/              the recordings, as received (never modified)
      records/              roster, scores, responses, callbacks, certificates (CSV or XLSX)

The output folder::

    OUT/
      audit.json            what was audited, with hashes and parameters
      findings.json         all findings, video and records, merged
      custody.jsonl         chain of custody: every step, who, when, tool version, parameters
      video/<camera>/<recording>/   one `examaudit analyze` output per recording
      records/              one `examaudit records` output

Work is resumable: each recording's folder gets a ``done.json`` naming the recording's sha256
and the parameters. A rerun skips recordings already done with the same file and parameters,
so an interrupted provincial batch picks up where it stopped. One recording that cannot be
read becomes a ``video_unreadable`` finding; it never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .config import ExamPointConfig, load_exam_point
from .custody import CustodyLog
from .errors import InputError, displayable, is_disk_full
from .findings import (
    Finding,
    FindingKind,
    FindingsDocument,
    InputFile,
    RunInfo,
    Severity,
    Source,
    merge_findings,
    now_utc,
    read_findings,
    write_findings,
)
from .outputs import read_csv_rows, sha256_file, staged_dir, write_atomic
from .records.tables import RecordsTables
from .video.analyze import AnalyzeParams, CameraContext, analyze_recording, write_analysis

CONFIG_NAME = "exam_point.yaml"
#: analysed now; reused from an earlier run; failed (unreadable footage); error (our bug)
STATUSES = ("analysed", "reused", "failed", "error")


@dataclass(frozen=True)
class RecordingJob:
    """One recording to analyse, with everything a worker process needs (all picklable)."""

    config_path: Path
    room: str
    camera: str
    path: Path
    out_dir: Path
    params: AnalyzeParams
    #: sha256 of what the config says about this camera (seats, zone, footage start) and the
    #: schedule: an edited seat map must not reuse a result analysed with the old one
    setup: str = ""

    @property
    def label(self) -> str:
        return f"{self.camera}/{displayable(self.path.name)}"


@dataclass
class RecordingOutcome:
    job: RecordingJob
    status: str  # one of STATUSES
    findings: int = 0
    error: str | None = None
    sha256: str | None = None


@dataclass
class AuditResult:
    config: ExamPointConfig
    out_dir: Path
    outcomes: list[RecordingOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    records_dir: Path | None = None
    #: originals whose sha256 changed since they were received: the audit stopped on them
    integrity_failures: list[dict[str, str | None]] = field(default_factory=list)


def find_config(exam_point_dir: Path) -> Path:
    path = exam_point_dir / CONFIG_NAME
    if not exam_point_dir.is_dir():
        raise InputError("exam point folder not found", path=exam_point_dir)
    if not path.is_file():
        raise InputError(f"no {CONFIG_NAME} in the exam point folder", path=exam_point_dir)
    return path


def plan_recordings(config_path: Path, cfg: ExamPointConfig, out_dir: Path, params: AnalyzeParams) -> list[RecordingJob]:
    jobs = []
    for room, cam in cfg.cameras():
        for rel in cam.footage:
            path = cfg.resolve(rel)
            jobs.append(RecordingJob(config_path, room.id, cam.id, path, out_dir / "video" / cam.id / path.stem, params,
                                     camera_setup(cfg, room.id, cam.id)))
    return jobs


def camera_setup(cfg: ExamPointConfig, room_id: str, camera_id: str) -> str:
    """A digest of everything the config tells the analysis of one camera (not where its files lie)."""
    _, cam = cfg.camera(camera_id)
    doc = {"camera": cam.model_dump(mode="json", exclude={"footage"}), "timezone": cfg.timezone,
           "sessions": [s.model_dump(mode="json") for s in cfg.sessions_for_room(room_id)]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _done_marker(job: RecordingJob, sha: str) -> dict[str, Any]:
    marker = {"sha256": sha, "parameters": job.params.as_dict(), "tool_version": __version__}
    if job.setup:
        marker["setup"] = job.setup
    return marker


def _keep_headcount_frames(old: Path, stage: Path) -> None:
    """Carry the last run's headcount frames into the new recording folder.

    :func:`headcount_step` draws them into the recording's ``frames/`` after every recording is
    done, while the exam point's findings.json of the last run still points at them: without this,
    a reviewer would get a missing picture for the whole rerun. The step writes them again anyway.
    """
    for pic in (old / "frames").glob("*_headcount_mismatch_*"):
        dest = stage / "frames" / pic.name
        if not dest.exists():
            dest.parent.mkdir(exist_ok=True)
            shutil.copy2(pic, dest)


def analyse_job(job: RecordingJob, progress: Callable[[float], None] | None = None) -> RecordingOutcome:
    """Analyse one recording into its folder, or reuse a finished result. Runs in workers.

    Never raises for bad footage: the error becomes the outcome, so a batch keeps going.
    ``progress`` gets the fraction of the recording sampled so far (0..1).
    """
    try:
        sha = sha256_file(job.path) if job.path.is_file() else None
        marker = job.out_dir / "done.json"
        if sha and marker.is_file():
            try:
                if json.loads(marker.read_text(encoding="utf-8")) == _done_marker(job, sha):
                    n = len(read_findings(job.out_dir / "findings.json").findings)
                    return RecordingOutcome(job, "reused", n, sha256=sha)
            except (ValueError, OSError):
                pass  # a damaged marker or result: analyse again
        cfg = load_exam_point(job.config_path)
        ctx = CameraContext.from_config(cfg, job.camera)
        result = analyze_recording(job.path, context=ctx, params=job.params, progress=progress)
        # The marker goes last, after every file is in place: a kill while staged_dir moves them
        # must not leave a marker beside half a result (an old one would vouch for it too).
        marker.unlink(missing_ok=True)
        with staged_dir(job.out_dir) as stage:
            write_analysis(result, stage, f"examaudit audit ({job.label})")
            _keep_headcount_frames(job.out_dir, stage)
        write_atomic(marker, json.dumps(_done_marker(job, result.recording.sha256)))
        return RecordingOutcome(job, "analysed", len(result.findings), sha256=result.recording.sha256)
    except Exception as exc:  # noqa: BLE001 - one recording's bug must not sink a provincial batch
        if is_disk_full(exc):
            raise  # not this recording's fault: every later one would fail too, so the batch stops
        if isinstance(exc, InputError):
            return RecordingOutcome(job, "failed", error=str(exc), sha256=None)
        import traceback

        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return RecordingOutcome(job, "error", error=f"internal error: {detail}", sha256=None)


def unreadable_finding(cfg: ExamPointConfig, outcome: RecordingOutcome) -> Finding:
    job = outcome.job
    return Finding.create(
        kind=FindingKind.video_unreadable,
        source=Source.video,
        severity=Severity.high,
        exam_point=cfg.exam_point,
        room=job.room,
        camera=job.camera,
        recording=displayable(job.path.name),
        confidence=1.0,
        reason_zh=f"考点提交的录像 {displayable(job.path.name)} 无法读取：{outcome.error}",
        reason_en=f"The recording {displayable(job.path.name)} handed over by the exam point cannot be read: {outcome.error}",
        details={"error": outcome.error},
    )


def run_recordings(
    jobs: list[RecordingJob],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[RecordingOutcome], None] | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[RecordingOutcome]:
    """Analyse recordings in parallel: a local process pool, or a Dask cluster by address.

    ``progress`` gets the fraction of all recordings done: sample by sample when they run one
    at a time here, recording by recording when they run in a pool or on a cluster.
    """
    outcomes: list[RecordingOutcome] = []
    on_done = _counting(on_done, progress, len(jobs))
    if scheduler:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise InputError("--scheduler needs the cluster extra: pip install 'examaudit[cluster]'") from None
        with Client(scheduler) as client:
            futures = [client.submit(analyse_job, j, pure=False) for j in jobs]
            for fut in as_completed(futures):
                outcomes.append(fut.result())
                if on_done:
                    on_done(outcomes[-1])
    elif workers <= 1 or len(jobs) <= 1:
        for i, j in enumerate(jobs):
            outcomes.append(analyse_job(j, _within(progress, i, len(jobs))))
            if on_done:
                on_done(outcomes[-1])
    else:
        with local_pool(workers) as pool:
            futures: list[Future] = [pool.submit(analyse_job, j) for j in jobs]
            for fut in futures:
                outcomes.append(fut.result())
                if on_done:
                    on_done(outcomes[-1])
    order = {j.path: i for i, j in enumerate(jobs)}
    return sorted(outcomes, key=lambda o: order[o.job.path])


def local_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with the process that started them (Linux): after a
    ``kill -9`` of an audit or a screening, no orphaned worker goes on writing into the output
    folder while the rerun works there, nor lingers afterwards."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),))


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def run_audit(
    exam_point_dir: str | Path,
    out_dir: str | Path,
    *,
    params: AnalyzeParams | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    on_recording: Callable[[RecordingOutcome], None] | None = None,
    command: str = "examaudit audit",
    progress: Callable[[float], None] | None = None,
    originals: dict[str | Path, str] | None = None,
) -> AuditResult:
    """Audit one exam point folder into ``out_dir`` (resumable; see the module docstring).

    ``progress`` gets the fraction of the recordings analysed (0..1; see :func:`run_recordings`).
    ``originals`` maps files of the folder to the sha256 they had when received (the server's
    stored originals): each is hashed again first, and one that changed stops the audit with an
    ``evidence_integrity`` finding instead of findings and a report built on changed footage.
    """
    exam_point_dir = Path(exam_point_dir)
    out_dir = Path(out_dir)
    config_path = find_config(exam_point_dir)
    cfg = load_exam_point(config_path)
    params = params or AnalyzeParams()
    started = now_utc()
    out_dir.mkdir(parents=True, exist_ok=True)
    custody = CustodyLog(out_dir / "custody.jsonl")
    custody.append("audit started", inputs={CONFIG_NAME: sha256_file(config_path)},
                   parameters={"command": command, **params.as_dict(), "workers": workers})

    changed = check_originals(originals or {}, exam_point_dir)
    if changed:
        return _stop_on_changed_originals(cfg, out_dir, changed, params=params, command=command,
                                          started=started, custody=custody)

    jobs = plan_recordings(config_path, cfg, out_dir, params)
    outcomes = run_recordings(jobs, workers=workers, scheduler=scheduler, on_done=on_recording, progress=progress)
    result = AuditResult(cfg, out_dir, outcomes)
    result.findings, inputs = collect_recordings(cfg, out_dir, outcomes, custody, params)

    records = records_inputs(cfg)
    if records.get("roster") and records.get("scores"):
        result.records_dir, tables = run_records_step(records, out_dir, custody, cfg)
        # Records often come as a province-wide export: this audit keeps its own exam point's
        # findings (the ranking among all exam points stays in records/exam_points.csv).
        result.findings.extend(exam_point_records_findings(result.records_dir, cfg.exam_point))
        inputs.extend(read_findings(result.records_dir / "findings.json").run.inputs)
        result.findings.extend(headcount_with_custody(cfg, out_dir, outcomes, tables.sat_by_room(cfg.exam_point),
                                                      params, custody))

    write_exam_point(cfg, out_dir, outcomes, result.findings, inputs, records_dir=result.records_dir,
                     params=params, command=command, started=started, custody=custody)
    return result


def check_originals(originals: dict[str | Path, str], base: Path) -> list[dict[str, str | None]]:
    """Hash every original again; one entry (file, expected, found) per file that changed or vanished."""
    changed = []
    for name, expected in originals.items():
        path = Path(name) if Path(name).is_absolute() else base / name
        found = sha256_file(path) if path.is_file() else None
        if found != expected:
            changed.append({"file": displayable(path.relative_to(base) if path.is_relative_to(base) else path),
                            "expected": expected, "found": found})
    return changed


def integrity_finding(cfg: ExamPointConfig, change: dict[str, str | None]) -> Finding:
    found = change["found"]
    now_zh = f"现为 {found[:12]}…" if found else "文件已缺失"
    now_en = f"now {found[:12]}…" if found else "the file is gone"
    return Finding.create(
        kind=FindingKind.evidence_integrity,
        source=Source.video,
        severity=Severity.high,
        exam_point=cfg.exam_point,
        recording=change["file"],
        confidence=1.0,
        reason_zh=(f"原始文件 {change['file']} 的 sha256 与接收时不符（接收时 {str(change['expected'])[:12]}…，"
                   f"{now_zh}）：本考点审计已停止，不基于被改动的证据出具报告。"),
        reason_en=(f"The original {change['file']} no longer matches the sha256 it had when received "
                   f"({str(change['expected'])[:12]}…, {now_en}): the audit of this exam point stopped "
                   "rather than report on changed evidence."),
        details={"key": change["file"], **change},
    )


def _stop_on_changed_originals(cfg: ExamPointConfig, out_dir: Path, changed: list[dict[str, str | None]], *,
                               params: AnalyzeParams, command: str, started: datetime,
                               custody: CustodyLog) -> AuditResult:
    """Findings = the integrity findings only; the last audit's report and pack are removed with them."""
    custody.append("evidence integrity check failed", inputs={c["file"]: c["found"] or "" for c in changed},
                   note="; ".join(f"{c['file']}: expected {c['expected']}" for c in changed))
    for stale in ("report.html", "report.pdf", "evidence_pack.zip", "evidence_pack.zip.sha256"):
        (out_dir / stale).unlink(missing_ok=True)
    result = AuditResult(cfg, out_dir, [], [integrity_finding(cfg, c) for c in changed], integrity_failures=changed)
    write_exam_point(cfg, out_dir, [], result.findings, [], records_dir=None, params=params, command=command,
                     started=started, custody=custody, extra={"stopped": "evidence_integrity", "changed": changed})
    return result


def collect_recordings(cfg: ExamPointConfig, out_dir: Path, outcomes: list[RecordingOutcome], custody: CustodyLog,
                       params: AnalyzeParams) -> tuple[list[Finding], list[InputFile]]:
    """Each analysed recording's findings (evidence paths rebased to ``out_dir``) and inputs;
    a ``video_unreadable`` finding for each recording that could not be read. Logs custody."""
    findings: list[Finding] = []
    inputs: list[InputFile] = []
    for o in outcomes:
        rel = displayable(o.job.path.relative_to(cfg.base_dir) if o.job.path.is_relative_to(cfg.base_dir) else o.job.path)
        if o.status == "failed":
            findings.append(unreadable_finding(cfg, o))
            custody.append("recording rejected", inputs={rel: o.sha256 or ""}, note=o.error)
            continue
        if o.status == "error":
            # Not the footage's fault: no finding, but the audit is marked incomplete.
            custody.append("recording analysis failed", inputs={rel: ""}, note=o.error)
            continue
        doc = read_findings(o.job.out_dir / "findings.json")
        findings.extend(doc.findings)
        inputs.extend(doc.run.inputs)
        custody.append(
            "recording analysed" if o.status == "analysed" else "recording result reused",
            inputs={rel: o.sha256 or ""},
            outputs={str((o.job.out_dir / "findings.json").relative_to(out_dir)): sha256_file(o.job.out_dir / "findings.json")},
            parameters=params.as_dict(),
        )
    # Frame paths in per-recording findings are relative to their own folder; the merged
    # document lives at the top, so its evidence paths are rewritten to stay valid.
    return [_rebase(f, out_dir, outcomes) for f in findings], inputs


def exam_point_records_findings(records_dir: Path, exam_point: str) -> list[Finding]:
    """The records findings about ``exam_point`` (or about no exam point in particular)."""
    return [f for f in read_findings(records_dir / "findings.json").findings if f.exam_point in (None, exam_point)]


def headcount_with_custody(cfg: ExamPointConfig, out_dir: Path, outcomes: list[RecordingOutcome],
                           sat: dict[tuple[str, str], set[str]], params: AnalyzeParams,
                           custody: CustodyLog) -> list[Finding]:
    """:func:`headcount_step`, rebased to ``out_dir`` and logged."""
    counted = headcount_step(cfg, outcomes, sat, params)
    custody.append("headcount held against the records", note=f"{len(counted)} headcount_mismatch finding(s)")
    return [_rebase(f, out_dir, outcomes) for f in counted]


def write_exam_point(cfg: ExamPointConfig, out_dir: Path, outcomes: list[RecordingOutcome], findings: list[Finding],
                     inputs: list[InputFile], *, records_dir: Path | None, params: AnalyzeParams, command: str,
                     started: datetime, custody: CustodyLog, extra: dict[str, Any] | None = None) -> Path:
    """Write the exam point's merged ``findings.json`` and ``audit.json`` (what the report and
    the pack read); ``extra`` keys are added to ``audit.json``. Returns the findings path."""
    doc = FindingsDocument(
        # Every recording names the detector model it ran: list each file once.
        run=RunInfo(command=command, started_at=started, finished_at=now_utc(),
                    inputs=list({(i.role, i.path, i.sha256): i for i in inputs}.values()),
                    parameters=params.as_dict(),
                    stats={"recordings": {s: sum(o.status == s for o in outcomes) for s in STATUSES}}),
        findings=merge_findings(findings),
    )
    write_findings(doc, out_dir / "findings.json")
    audit_json = {
        "exam_point": cfg.exam_point,
        "name": cfg.name,
        "city": cfg.city,
        "config": json.loads(cfg.model_dump_json()),
        "recordings": [
            {
                "room": o.job.room,
                "camera": o.job.camera,
                "path": displayable(o.job.path),
                "sha256": o.sha256,
                "status": o.status,
                "error": o.error,
                "out": str(o.job.out_dir.relative_to(out_dir)),
            }
            for o in outcomes
        ],
        "records": "records" if records_dir else None,
        "started_at": started.isoformat(),
        "finished_at": now_utc().isoformat(),
        "tool_version": __version__,
        "parameters": params.as_dict(),
        **(extra or {}),
    }
    write_atomic(out_dir / "audit.json", json.dumps(audit_json, indent=2, ensure_ascii=False) + "\n")
    custody.append("audit findings merged", outputs={"findings.json": sha256_file(out_dir / "findings.json")})
    return out_dir / "findings.json"


def write_report_and_pack(out_dir: str | Path, *, lang: str = "zh", show_personal_data: bool = False) -> tuple[Any, Path]:
    """The exam point's ``report.html``/``report.pdf`` and ``evidence_pack.zip`` from its audit folder.

    Returns the :class:`~examaudit.report.render.ReportFiles` and the pack's path."""
    from .report.pack import build_evidence_pack
    from .report.render import render_report

    files = render_report(out_dir, lang=lang, show_personal_data=show_personal_data)
    return files, build_evidence_pack(out_dir)


# ---------------------------------------------------------------- progress callbacks (for the server's jobs)
def _within(progress: Callable[[float], None] | None, index: int, total: int) -> Callable[[float], None] | None:
    """Map one recording's 0..1 onto its share of the whole run (recording ``index`` of ``total``)."""
    if progress is None:
        return None
    return lambda frac: progress((index + max(0.0, min(1.0, frac))) / max(total, 1))


def _counting(on_done: Callable[[RecordingOutcome], None] | None, progress: Callable[[float], None] | None,
              total: int) -> Callable[[RecordingOutcome], None] | None:
    """``on_done`` that also reports the fraction of recordings finished."""
    if progress is None:
        return on_done
    finished = [0]

    def done(outcome: RecordingOutcome) -> None:
        finished[0] += 1
        progress(finished[0] / max(total, 1))
        if on_done:
            on_done(outcome)

    return done


def _rebase(f: Finding, out_dir: Path, outcomes: list[RecordingOutcome]) -> Finding:
    if not f.evidence or f.recording is None:
        return f
    for o in outcomes:
        if displayable(o.job.path.name) == f.recording and o.job.camera == f.camera:
            prefix = o.job.out_dir.relative_to(out_dir).as_posix()
            ev = [e.model_copy(update={"path": f"{prefix}/{e.path}"}) for e in f.evidence]
            return f.model_copy(update={"evidence": ev})
    return f


def records_inputs(cfg: ExamPointConfig) -> dict[str, Path]:
    """The records files the YAML names, or found by name in ``records/``."""
    found: dict[str, Path] = {}
    declared = cfg.records.model_dump()
    for role in ("roster", "scores", "responses", "callbacks", "certificates"):
        if declared.get(role):
            found[role] = cfg.resolve(declared[role])
            continue
        for ext in ("csv", "xlsx", "xls"):
            candidate = cfg.base_dir / "records" / f"{role}.{ext}"
            if candidate.is_file():
                found[role] = candidate
                break
    return found


def run_records_step(files: dict[str, Path], out_dir: Path, custody: CustodyLog,
                     cfg: ExamPointConfig) -> tuple[Path, RecordsTables]:
    """Screen the exam point's records, cross-checked with the video findings already written.

    Returns the records output folder and the loaded tables (the headcount step needs them)."""
    from .records.pipeline import RecordsInputs, run_records, write_records_outputs

    video_findings = sorted((out_dir / "video").glob("*/*/findings.json"))
    result = run_records(RecordsInputs(**files, timezone=cfg.timezone), video_findings=video_findings)
    records_dir = out_dir / "records"
    with staged_dir(records_dir) as stage:
        write_records_outputs(result, stage, command=f"examaudit audit (records of {cfg.exam_point})",
                              exam_point=cfg.exam_point)
    custody.append(
        "records screened",
        inputs={role: sha256_file(p) for role, p in files.items()},
        outputs={"records/findings.json": sha256_file(records_dir / "findings.json")},
    )
    return records_dir, result.tables


def headcount_step(cfg: ExamPointConfig, outcomes: list[RecordingOutcome], sat: dict[tuple[str, str], set[str]],
                   params: AnalyzeParams) -> list[Finding]:
    """``headcount_mismatch`` for every analysed recording: seated people on video against the
    candidates the records say sat that session in that camera's view.

    A camera's expected count is the candidates who sat and whose seat is in its seat map; a
    camera without candidates on its seats is held against the whole room only when it is the
    room's one camera (otherwise it sees an unknown part of the room and is skipped). Evidence
    frames are drawn from the recording and written into its own ``frames/`` folder.
    """
    from .video.people_findings import headcount_mismatch_drafts
    from .video.analyze import finalise_drafts

    found: list[Finding] = []
    for o in outcomes:
        if o.status not in ("analysed", "reused"):
            continue
        room, cam = cfg.camera(o.job.camera)
        mine = {s.candidate_id for s in cam.seats if s.candidate_id}
        if not mine and len(room.cameras) > 1:
            continue
        rows = _typed_rows(o.job.out_dir / "samples.csv")
        wall0 = _wall_start(rows)
        if wall0 is None:
            continue
        expected: dict[str, int] = {}
        spans: dict[str, tuple[float, float]] = {}
        for session in cfg.sessions_for_room(room.id):
            ids = sat.get((session.id, room.id))
            if ids is None:
                continue
            expected[session.id] = len(ids & mine) if mine else len(ids)
            spans[session.id] = ((cfg.aware(session.start) - wall0).total_seconds(),
                                 (cfg.aware(session.end) - wall0).total_seconds())
        drafts = headcount_mismatch_drafts(expected, rows, spans)
        if not drafts:
            continue
        meta = json.loads((o.job.out_dir / "recording.json").read_text(encoding="utf-8"))
        ctx = CameraContext.from_config(cfg, o.job.camera)
        findings, images = finalise_drafts(drafts, o.job.path, meta.get("reader", "pyav"), ctx, wall0, params,
                                           timing=meta.get("timing"))
        (o.job.out_dir / "frames").mkdir(exist_ok=True)
        for pic in images:
            (o.job.out_dir / "frames" / pic.name).write_bytes(pic.data)
        found.extend(findings)
    return found


def _typed_rows(path: Path) -> list[dict[str, Any]]:
    """samples.csv rows with the columns the headcount needs as numbers and booleans."""
    rows: list[dict[str, Any]] = read_csv_rows(path) or []
    for r in rows:
        r["t_s"] = float(r["t_s"])
        r["seated"] = int(r["seated"]) if r.get("seated") not in (None, "") else None
        r["trusted"] = r.get("trusted") not in ("0", "False", "false")
    return rows


def _wall_start(rows: list[dict[str, Any]]) -> datetime | None:
    """The wall-clock time of footage second 0, from the first row that has one."""
    for r in rows:
        if r.get("wall_time"):
            return datetime.fromisoformat(r["wall_time"]) - timedelta(seconds=r["t_s"])
    return None


def command_line(argv: list[str]) -> str:
    return displayable("examaudit " + " ".join(shlex.quote(a) for a in argv))
