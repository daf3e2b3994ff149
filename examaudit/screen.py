"""Province-wide screening: every exam point of a province in one run, on a process pool or Dask.

The province folder::

    PROVINCE_DIR/
      exam_points/<EP>/     one exam-point folder each, as ``examaudit audit`` reads it
                            (exam_point.yaml, footage/); its own records are not used here
      records/              optional province-wide export: roster, scores (required when the
                            folder exists), responses, callbacks, certificates (CSV or XLSX).
                            It may cover exam points that handed over no footage.

The output folder::

    OUT/
      <EP>/                 what ``examaudit audit`` writes for that exam point, plus
                            screening.json (its fused numbers), report.html/.pdf, evidence_pack.zip
      records/              the province's records, screened once (``examaudit records`` outputs)
      screening.html, screening.pdf, exam_points.csv, screening.xlsx   the ranked province

The work is one task graph, run by the same functions on a local process pool or on a Dask
cluster:

1. analyse each recording (:func:`examaudit.audit.analyse_job`), longest first;
2. merge each exam point's recordings (:func:`merge_exam_point`);
3. screen the province's records once (:func:`screen_records`), with the absentees video saw;
4. fuse video and records per exam point (:func:`fuse_exam_point`);
5. rank the province with Benjamini-Hochberg FDR control (:func:`rank_province`);
6. write each exam point's report and evidence pack (:func:`report_exam_point`);
7. write the province summary (:mod:`examaudit.report.screening`).

Every step's function is picklable and free of global state, and each writes a marker beside
its output naming what it was computed from, so a rerun (after Ctrl-C, a crash or a lost
cluster) reuses finished work and redoes only what changed. A recording whose analysis fails
twice (a dead worker, a crash in a decoder) becomes a ``video_unreadable`` finding and the run
goes on; a bad exam-point folder is reported and the others go on.

:func:`screen_province` is the library entry the CLI calls and a server job can call, with a
progress callback.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__
from .audit import (
    CONFIG_NAME,
    STATUSES,
    RecordingJob,
    RecordingOutcome,
    analyse_job,
    collect_recordings,
    headcount_with_custody,
    local_pool,
    plan_recordings,
    write_exam_point,
    write_report_and_pack,
)
from .config import ExamPointConfig, load_exam_point
from .custody import CustodyLog
from .errors import InputError
from .findings import Finding, FindingKind, InputFile, Severity, now_utc, read_findings
from .outputs import sha256_file, staged_dir, write_atomic, write_csv
from .records.fusion import benjamini_hochberg, harmonic_mean_p
from .video.analyze import AnalyzeParams

RECORD_ROLES = ("roster", "scores", "responses", "callbacks", "certificates")

#: How strongly one video finding counts as evidence against its exam point, by severity. Like
#: the records' ``evidence_p`` this is a stated weight, not a statistical estimate: a high
#: finding (footage cut, a looped segment, an absent candidate) counts as p = 0.001. It is
#: raised to the finding's confidence, so a finding with confidence 0 counts as nothing.
VIDEO_EVIDENCE_P = {Severity.critical: 1e-4, Severity.high: 1e-3, Severity.medium: 1e-2, Severity.low: 0.1}

#: risk levels by the province-wide q-value (and p-value for "low")
LEVELS = ("risk_high", "risk_medium", "risk_low", "risk_none")


# ---------------------------------------------------------------------------- the province plan


@dataclass(frozen=True)
class ExamPointFolder:
    """One exam point with footage: its folder, config and recordings (all picklable)."""

    exam_point: str
    name: str
    city: str
    folder: Path
    config_path: Path
    out_dir: Path
    jobs: tuple[RecordingJob, ...]
    seconds: tuple[float, ...]  # footage length of each job, 0 when it could not be probed

    @property
    def footage_hours(self) -> float:
        return sum(self.seconds) / 3600


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input, named by its path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ProvincePlan:
    root: Path
    out_dir: Path
    exam_points: list[ExamPointFolder]
    records: dict[str, Path]
    problems: list[Problem]
    #: folders left out because they cannot be read as an exam point: folder name -> problems
    rejected: dict[str, list[Problem]] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return sum(ep.footage_hours for ep in self.exam_points)


def footage_seconds(path: Path) -> float:
    """A recording's length from its container header (cheap: no packets read); 0 when unknown."""
    try:
        import av

        with av.open(str(path)) as c:
            if c.duration:
                return float(c.duration) / 1e6
            s = c.streams.video[0]
            if s.duration and s.time_base:
                return float(s.duration * s.time_base)
    except Exception:  # noqa: BLE001 - an unreadable file is found (and reported) by its analysis
        pass
    return 0.0


def _find_records(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for role in RECORD_ROLES:
        for ext in ("csv", "xlsx", "xls"):
            p = folder / f"{role}.{ext}"
            if p.is_file():
                found[role] = p
                break
    return found


def plan_province(province_dir: str | Path, out_dir: str | Path, params: AnalyzeParams | None = None) -> ProvincePlan:
    """Read and check the province folder before any work starts.

    Problems that leave nothing to screen (no folder, a records folder without roster or
    scores) raise one :class:`InputError` listing every one of them. A folder that cannot be
    read as an exam point is listed in ``rejected`` and left out; missing or empty footage
    files are listed in ``problems`` and become ``video_unreadable`` findings in the run.
    """
    root = Path(province_dir)
    out = Path(out_dir)
    params = params or AnalyzeParams()
    fatal: list[Problem] = []
    problems: list[Problem] = []
    rejected: dict[str, list[Problem]] = {}
    if not root.is_dir():
        raise InputError("province folder not found", path=root)
    ep_root = root / "exam_points"
    rec_root = root / "records"
    records: dict[str, Path] = {}
    if rec_root.is_dir():
        records = _find_records(rec_root)
        for role in ("roster", "scores"):
            if role not in records:
                fatal.append(Problem(str(rec_root), f"no {role}.csv or {role}.xlsx (roster and scores are required)"))
        for role, p in records.items():
            if p.stat().st_size == 0:
                fatal.append(Problem(str(p), f"the {role} file is empty"))
    elif rec_root.exists():
        fatal.append(Problem(str(rec_root), "records must be a folder"))
    if not ep_root.is_dir() and not records:
        fatal.append(Problem(str(ep_root), "no exam_points/ folder and no records/ folder: nothing to screen"))
    folders: list[ExamPointFolder] = []
    seen: dict[str, Path] = {}
    for d in sorted(ep_root.iterdir()) if ep_root.is_dir() else []:
        if d.name.startswith("."):
            continue
        if not d.is_dir():
            problems.append(Problem(str(d), "not an exam-point folder (a file); ignored"))
            continue
        mine: list[Problem] = []
        cfg_path = d / CONFIG_NAME
        cfg: ExamPointConfig | None = None
        if not cfg_path.is_file():
            mine.append(Problem(str(d), f"no {CONFIG_NAME}"))
        else:
            try:
                cfg = load_exam_point(cfg_path)
            except InputError as exc:
                mine.append(Problem(str(cfg_path), str(exc).removeprefix(f"{cfg_path}: ")))
        if cfg is not None and cfg.exam_point in seen:
            mine.append(Problem(str(cfg_path), f"exam point {cfg.exam_point} is already in {seen[cfg.exam_point]}"))
        if mine or cfg is None:
            rejected[d.name] = mine
            continue
        seen[cfg.exam_point] = d
        ep_out = out / cfg.exam_point
        jobs = plan_recordings(cfg_path, cfg, ep_out, params)
        for j in jobs:
            if not j.path.is_file():
                problems.append(Problem(str(j.path), f"footage listed for camera {j.camera} not found"))
            elif j.path.stat().st_size == 0:
                problems.append(Problem(str(j.path), "footage file is empty"))
        folders.append(ExamPointFolder(cfg.exam_point, cfg.name, cfg.city, d, cfg_path, ep_out, tuple(jobs),
                                       tuple(footage_seconds(j.path) if j.path.is_file() else 0.0 for j in jobs)))
    if fatal:
        lines = "\n  ".join(str(p) for p in fatal + problems + [p for ps in rejected.values() for p in ps])
        raise InputError(f"{len(fatal)} problem(s) stop the screening before it starts:\n  {lines}")
    return ProvincePlan(root, out, folders, records, problems, rejected)


# ---------------------------------------------------------------------------- step 2: merge


class PendingCustody:
    """Custody entries made where the log cannot be written yet; replayed into the real log."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, Any]]] = []

    def append(self, action: str, **kw: Any) -> None:
        self.entries.append((action, kw))

    def replay(self, log: CustodyLog) -> None:
        for action, kw in self.entries:
            log.append(action, **kw)


@dataclass
class MergedVideo:
    """An exam point's recordings, merged: what the records screen and the fusion need."""

    exam_point: str
    outcomes: list[RecordingOutcome]
    findings: list[Finding]
    inputs: list[InputFile]
    absent: set[str]
    custody: PendingCustody
    digest: str  # of the findings and outcomes: a change here re-runs this exam point's fusion


def merge_exam_point(ep: ExamPointFolder, outcomes: list[RecordingOutcome], params: AnalyzeParams) -> MergedVideo:
    """Gather one exam point's recording results (step 2). Reads only; writes nothing."""
    cfg = load_exam_point(ep.config_path)
    order = {j.path: i for i, j in enumerate(ep.jobs)}
    outcomes = sorted(outcomes, key=lambda o: order.get(o.job.path, 0))
    pending = PendingCustody()
    findings, inputs = collect_recordings(cfg, ep.out_dir, outcomes, pending, params)  # type: ignore[arg-type]
    absent = {f.candidate_id for f in findings if f.kind == FindingKind.absent_candidate and f.candidate_id}
    # "analysed" and "reused" are the same result: only a changed file or outcome re-runs fusion.
    digest = _digest([sorted(f.id for f in findings),
                      [(o.job.path.name, o.status in ("analysed", "reused"), o.sha256, o.error) for o in outcomes]])
    return MergedVideo(ep.exam_point, outcomes, findings, inputs, absent, pending, digest)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


# ---------------------------------------------------------------------------- step 3: records


@dataclass
class RecordsForExamPoint:
    p_value: float
    q_value: float
    n_candidates: int
    reasons_zh: list[str]
    reasons_en: list[str]
    sat: dict[tuple[str, str], set[str]]
    summary: dict[str, Any]
    digest: str


@dataclass
class ProvinceRecords:
    """The province's records screened once: per exam point, what fusion and the report need."""

    out_dir: Path
    exam_points: dict[str, RecordsForExamPoint]

    def only(self, exam_point: str) -> "ProvinceRecords":
        return ProvinceRecords(self.out_dir, {k: v for k, v in self.exam_points.items() if k == exam_point})


def _records_from_json(out_dir: Path, doc: dict[str, Any]) -> ProvinceRecords:
    eps = {}
    for ep, d in doc["exam_points"].items():
        sat = {tuple(k.split("\x1f", 1)): set(v) for k, v in d["sat"].items()}
        eps[ep] = RecordsForExamPoint(d["p_value"], d["q_value"], d["n_candidates"], d["reasons_zh"], d["reasons_en"],
                                      sat, d["summary"], d["digest"])  # type: ignore[arg-type]
    return ProvinceRecords(out_dir, eps)


def screen_records(files: dict[str, Path], absent: set[str], out_dir: Path, command: str) -> ProvinceRecords:
    """Screen the province's records once (step 3) into ``out_dir``; reused when neither the
    files nor the absentees seen on video changed."""
    from .records.pipeline import RecordsInputs, run_records, write_records_outputs
    from .records.summary import records_summary

    marker = {"inputs": {r: sha256_file(p) for r, p in sorted(files.items())}, "absent_on_video": sorted(absent),
              "tool_version": __version__}
    done, data = out_dir / "done.json", out_dir / "screen.json"
    if done.is_file() and data.is_file():
        try:
            if json.loads(done.read_text(encoding="utf-8")) == marker:
                return _records_from_json(out_dir, json.loads(data.read_text(encoding="utf-8")))
        except (ValueError, KeyError, OSError):
            pass  # damaged: screen again
    started = now_utc()
    result = run_records(RecordsInputs(**files), absent_on_video=absent)
    e = result.exam_points
    by_ep: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_ep.setdefault(f.exam_point or "", []).append(f)
    doc: dict[str, Any] = {"exam_points": {}}
    for g, ep in enumerate(e.exam_point):
        ep = str(ep)
        sat = result.tables.sat_by_room(ep)
        summary = records_summary(result, ep)
        d = {"p_value": float(e.p_value[g]), "q_value": float(e.q_value[g]), "n_candidates": int(e.n_candidates[g]),
             "reasons_zh": list(e.reasons_zh[g]), "reasons_en": list(e.reasons_en[g]),
             "sat": {f"{s}\x1f{r}": sorted(ids) for (s, r), ids in sorted(sat.items())}, "summary": summary}
        d["digest"] = _digest([d, sorted(f.id for f in by_ep.get(ep, []))])
        doc["exam_points"][ep] = d
    done.unlink(missing_ok=True)  # the marker goes last (see staged_dir): a kill mid-move leaves none
    with staged_dir(out_dir) as stage:
        write_records_outputs(result, stage, command=f"{command} (records of the province)", started_at=started)
        (stage / "screen.json").write_text(json.dumps(doc, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")
    write_atomic(done, json.dumps(marker))
    return _records_from_json(out_dir, json.loads(data.read_text(encoding="utf-8")))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    return str(o)


def _exam_point_records(records: ProvinceRecords, ep: str, dest: Path) -> list[Finding]:
    """Write ``dest`` (the exam point's ``records/``) from the province's screen: its own
    candidates and findings, the province's ranking, and its chart data. Returns its findings."""
    import csv

    src = records.out_dir
    doc = read_findings(src / "findings.json")
    mine = [f for f in doc.findings if f.exam_point in (None, ep)]
    with staged_dir(dest) as stage:
        with open(src / "candidates.csv", newline="", encoding="utf-8") as fi, \
                open(stage / "candidates.csv", "w", newline="", encoding="utf-8") as fo:
            r, w = csv.reader(fi), csv.writer(fo)
            header = next(r, None)
            if header:
                w.writerow(header)
                col = header.index("exam_point") if "exam_point" in header else None
                w.writerows(row for row in r if col is None or (len(row) > col and row[col] == ep))
        for name in ("exam_points.csv", "validation.csv"):
            if (src / name).is_file():
                shutil.copyfile(src / name, stage / name)
        from .findings import FindingsDocument, write_findings

        write_findings(FindingsDocument(run=doc.run, findings=mine), stage / "findings.json")
        info = records.exam_points.get(ep)
        (stage / "summary.json").write_text(json.dumps(info.summary if info else {"exam_point": ep}, ensure_ascii=False,
                                                       indent=1) + "\n", encoding="utf-8")
    return mine


# ---------------------------------------------------------------------------- step 4: fusion


@dataclass
class ExamPointScore:
    """One exam point's fused evidence, before the province ranking."""

    exam_point: str
    name: str
    city: str
    has_footage: bool
    p_video: float | None
    p_records: float | None
    p_value: float
    reasons_zh: list[str]
    reasons_en: list[str]
    counts_by_kind: dict[str, int]
    footage_hours: float
    coverage: float | None
    recordings: dict[str, int]
    records_q: float | None = None
    error: str | None = None  # the exam point could not be screened (its folder, or our bug)


def video_evidence(findings: list[Finding]) -> tuple[float | None, list[tuple[float, str, str]]]:
    """One p-value for what the footage showed, and the findings behind it as (p, zh, en).

    Each finding counts as :data:`VIDEO_EVIDENCE_P` of its severity raised to its confidence;
    the strongest finding of each kind enters a harmonic-mean combination (valid under any
    dependence). Footage without findings gives 1.0: it was looked at and showed nothing.
    """
    best: dict[str, tuple[float, Finding]] = {}
    for f in findings:
        base = VIDEO_EVIDENCE_P.get(Severity(f.severity))
        if base is None or f.source.value not in ("video",):
            continue
        p = base ** max(0.0, min(1.0, f.confidence))
        if f.kind.value not in best or p < best[f.kind.value][0]:
            best[f.kind.value] = (p, f)
    if not best:
        return 1.0, []
    ps = np.array([[p for p, _ in best.values()]])
    ranked = sorted(best.values(), key=lambda t: (t[0], t[1].id))
    return float(harmonic_mean_p(ps)[0]), [(p, f.reason_zh, f.reason_en) for p, f in ranked]


def fuse_p(p_video: float | None, p_records: float | None) -> float:
    """Video and records combined by the harmonic mean p-value (valid under dependence)."""
    ps = [p for p in (p_video, p_records) if p is not None and math.isfinite(p)]
    if not ps:
        return 1.0
    return float(harmonic_mean_p(np.array([ps]))[0])


def session_coverage(cfg: ExamPointConfig, outcomes: list[RecordingOutcome]) -> float | None:
    """Share of camera-session time with usable footage (each camera against its room's
    sessions; a camera whose footage failed counts as uncovered). None without sessions."""
    usable: dict[tuple[str, str], float] = {}
    for o in outcomes:
        if o.status not in ("analysed", "reused"):
            continue
        path = o.job.out_dir / "coverage.json"
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for r in rows if isinstance(rows, list) else []:
            key = (o.job.camera, str(r.get("session")))
            usable[key] = usable.get(key, 0.0) + float(r.get("usable_s") or 0.0)
    total = covered = 0.0
    for room, cam in cfg.cameras():
        for s in cfg.sessions_for_room(room.id):
            length = (s.end - s.start).total_seconds()
            if length <= 0:
                continue
            total += length
            covered += min(length, usable.get((cam.id, s.id), 0.0))
    return covered / total if total else None


def fuse_exam_point(ep: ExamPointFolder, merged: MergedVideo, records: ProvinceRecords | None,
                    params: AnalyzeParams, command: str) -> ExamPointScore:
    """Fuse one exam point's video and records (step 4): write its folder as ``audit`` would,
    plus ``screening.json``; reused when its video and its records did not change.

    ``records`` need only hold this exam point (:meth:`ProvinceRecords.only`), so a cluster
    does not ship the whole province's records to every task."""
    info = records.exam_points.get(ep.exam_point) if records else None
    out = ep.out_dir
    marker = {"video": merged.digest, "records": info.digest if info else None, "parameters": params.as_dict(),
              "tool_version": __version__}
    done, data = out / "screening.done.json", out / "screening.json"
    if done.is_file() and data.is_file() and (out / "findings.json").is_file():
        try:
            if json.loads(done.read_text(encoding="utf-8")) == marker:
                return ExamPointScore(**json.loads(data.read_text(encoding="utf-8")))
        except (ValueError, TypeError, OSError):
            pass
    cfg = load_exam_point(ep.config_path)
    started = now_utc()
    out.mkdir(parents=True, exist_ok=True)
    custody = CustodyLog(out / "custody.jsonl")
    custody.append("screening of the exam point started", inputs={CONFIG_NAME: sha256_file(ep.config_path)},
                   parameters={"command": command, **params.as_dict()})
    merged.custody.replay(custody)
    findings = list(merged.findings)
    inputs = list(merged.inputs)
    records_dir = None
    if records is not None:
        records_dir = out / "records"
        findings += _exam_point_records(records, ep.exam_point, records_dir)
        inputs += read_findings(records.out_dir / "findings.json").run.inputs
        custody.append("province records screened once; this exam point's part copied",
                       outputs={"records/findings.json": sha256_file(records_dir / "findings.json")})
        if info is not None:
            findings += headcount_with_custody(cfg, out, merged.outcomes, info.sat, params, custody)
    p_video, video_reasons = video_evidence(findings)
    p_records = info.p_value if info else None
    score = _score(ep.exam_point, cfg.name, cfg.city, True, p_video, p_records, video_reasons, info, findings,
                   ep.footage_hours, session_coverage(cfg, merged.outcomes),
                   {s: sum(o.status == s for o in merged.outcomes) for s in STATUSES})
    write_exam_point(cfg, out, merged.outcomes, findings, inputs, records_dir=records_dir, params=params,
                     command=command, started=started, custody=custody,
                     extra={"screening": {"p_video": p_video, "p_records": p_records, "p_value": score.p_value}})
    write_atomic(data, json.dumps(asdict(score), ensure_ascii=False, indent=1) + "\n")
    write_atomic(done, json.dumps(marker))
    return score


def _score(ep: str, name: str, city: str, has_footage: bool, p_video: float | None, p_records: float | None,
           video_reasons: list[tuple[float, str, str]], info: RecordsForExamPoint | None, findings: list[Finding],
           hours: float, coverage: float | None, recordings: dict[str, int]) -> ExamPointScore:
    # Reasons: the stronger source first, three in all.
    rec = list(zip(info.reasons_zh, info.reasons_en)) if info else []
    vid = [(zh, en) for _, zh, en in video_reasons]
    first, second = (rec, vid) if (p_records or 1.0) <= (p_video or 1.0) else (vid, rec)
    reasons = (first + second)[:3]
    counts: dict[str, int] = {}
    for f in findings:
        if f.exam_point in (None, ep):
            counts[f.kind.value] = counts.get(f.kind.value, 0) + 1
    return ExamPointScore(ep, name, city, has_footage, p_video, p_records, fuse_p(p_video, p_records),
                          [zh for zh, _ in reasons], [en for _, en in reasons], dict(sorted(counts.items())),
                          round(hours, 4), coverage, recordings, info.q_value if info else None)


def records_only_score(ep: str, records: ProvinceRecords) -> ExamPointScore:
    """An exam point the records cover that handed over no footage."""
    info = records.exam_points[ep]
    doc = read_findings(records.out_dir / "findings.json")
    mine = [f for f in doc.findings if f.exam_point == ep]
    return _score(ep, "", "", False, None, info.p_value, [], info, mine, 0.0, None, {})


# ---------------------------------------------------------------------------- step 5: ranking


@dataclass
class RankedExamPoint:
    score: ExamPointScore
    q_value: float
    rank: int
    level: str  # one of LEVELS (i18n keys)
    report: str | None = None  # report.html relative to the output folder, when written

    @property
    def risk(self) -> float:
        return 1.0 - self.q_value


def rank_province(scores: list[ExamPointScore], fdr: float = 0.10) -> list[RankedExamPoint]:
    """Benjamini-Hochberg across the province; rank 1 is the highest risk (lowest q, then p).

    Levels: high at q <= fdr / 10, medium at q <= fdr, low when p < 0.05, otherwise none.
    Acting on every exam point at medium or above keeps the expected share of false alarms at
    or below ``fdr`` (under the screens' own calibration and the stated video evidence weights).
    """
    if not scores:
        return []
    p = np.array([s.p_value for s in scores], float)
    q = benjamini_hochberg(p)
    order = sorted(range(len(scores)), key=lambda i: (q[i], p[i], scores[i].exam_point))
    out: list[RankedExamPoint | None] = [None] * len(scores)
    for r, i in enumerate(order, start=1):
        level = ("risk_high" if q[i] <= fdr / 10 else "risk_medium" if q[i] <= fdr
                 else "risk_low" if p[i] < 0.05 else "risk_none")
        out[i] = RankedExamPoint(scores[i], float(q[i]), r, level)
    return sorted((x for x in out if x is not None), key=lambda x: x.rank)


# ---------------------------------------------------------------------------- step 6: reports


def report_exam_point(out_dir: Path, lang: str, show_personal_data: bool) -> str:
    """The exam point's report and evidence pack (step 6); reused when its findings are unchanged."""
    marker = {"findings": sha256_file(out_dir / "findings.json"), "lang": lang, "show_personal_data": show_personal_data,
              "tool_version": __version__}
    done = out_dir / "report.done.json"
    if done.is_file() and (out_dir / "report.html").is_file() and (out_dir / "evidence_pack.zip").is_file():
        try:
            if json.loads(done.read_text(encoding="utf-8")) == marker:
                return "reused"
        except (ValueError, OSError):
            pass
    write_report_and_pack(out_dir, lang=lang, show_personal_data=show_personal_data)
    write_atomic(done, json.dumps(marker))
    return "written"


# ---------------------------------------------------------------------------- executors


class LocalPool:
    """A process pool (or inline work for one worker) with the interface the driver needs."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = local_pool(self.workers) if self.workers > 1 else None
        self.description = f"local pool, {self.workers} worker(s)"

    def submit(self, fn: Callable[..., Any], *args: Any, priority: float = 0) -> Future:
        if self._pool is None:
            # One worker: run in this process, when the driver waits for it (in submission
            # order), so progress and Ctrl-C behave as with a pool.
            fut: Future = Future()
            fut.deferred = (fn, args)  # type: ignore[attr-defined]
            return fut
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            # A worker died and took the pool with it: start a new one; the driver resubmits.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = local_pool(self.workers)
            return self._pool.submit(fn, *args)

    def wait_any(self, futures: list[Any]) -> set[Any]:
        if self._pool is None:
            fut = next((f for f in futures if f.done()), None) or futures[0]
            _run_deferred(fut)
            return {fut}
        done, _ = futures_wait(futures, return_when=FIRST_COMPLETED)
        return set(done)

    def result(self, fut: Future) -> Any:
        _run_deferred(fut)
        return fut.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskRunner:
    """The same steps on a Dask ``distributed`` cluster: ``local:N`` starts one on this machine."""

    def __init__(self, client: Any, cluster: Any = None):
        self.client, self._cluster = client, cluster
        info = client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self.description = f"Dask {info.get('address', '')}, {len(info.get('workers', {}))} worker(s)"

    @classmethod
    def connect(cls, cluster: str | None = None, scheduler: str | None = None) -> "DaskRunner":
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--cluster and --scheduler need the cluster extra: pip install 'examaudit[cluster]'") from None
        if scheduler:
            try:
                return cls(Client(scheduler, timeout="20s"))
            except OSError as exc:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        spec = cluster or "local:1"
        kind, _, n = spec.partition(":")
        if kind != "local" or not n.isdigit() or int(n) < 1:
            raise InputError(f"--cluster must be local:N (N workers on this machine), got {spec!r}")
        # A recording that kills its worker is given one more try, then becomes a finding.
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            lc = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=None)
        return cls(Client(lc), lc)

    def submit(self, fn: Callable[..., Any], *args: Any, priority: float = 0) -> Any:
        return self.client.submit(fn, *args, pure=False, priority=int(priority))

    def wait_any(self, futures: list[Any]) -> set[Any]:
        from distributed import wait

        done, _ = wait(futures, return_when="FIRST_COMPLETED")
        return set(done)

    def result(self, fut: Any) -> Any:
        return fut.result()

    def check_paths(self, paths: list[Path]) -> None:
        """Stat a few footage files (and the output folder) on every worker; fail clearly if
        a worker cannot see them, since the workers read footage by path."""
        missing = self.client.run(_unseen_paths, [str(p) for p in paths])
        bad = {w: m for w, m in missing.items() if m}
        if bad:
            lines = "; ".join(f"worker {w} cannot see {', '.join(m[:3])}" + (f" and {len(m) - 3} more" if len(m) > 3 else "")
                              for w, m in sorted(bad.items()))
            raise InputError(f"the Dask workers must see the footage and the output folder at the same paths "
                             f"(a shared filesystem): {lines}")

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _run_deferred(fut: Future) -> None:
    job = getattr(fut, "deferred", None)
    if job is None or fut.done():
        return
    fn, args = job
    try:
        fut.set_result(fn(*args))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - handed to the driver like a pool's future
        fut.set_exception(exc)


def _unseen_paths(paths: list[str]) -> list[str]:
    """Run on each worker: the paths it cannot stat."""
    out = []
    for p in paths:
        try:
            Path(p).stat()
        except OSError:
            out.append(p)
    return out


# ---------------------------------------------------------------------------- the driver


@dataclass
class ScreenProgress:
    """What a progress bar (or a server job) shows: footage hours, recordings, the stage."""

    hours_total: float
    hours_done: float
    recordings_total: int
    done: int
    failed: int
    running: int
    stage: str


@dataclass
class ScreeningResult:
    plan: ProvincePlan
    ranked: list[RankedExamPoint]
    outcomes: dict[str, list[RecordingOutcome]]
    problems: list[Problem]
    #: exam points that failed after their recordings (fusion or report), name -> error
    errors: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    executor: str = ""
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        all_o = [o for os_ in self.outcomes.values() for o in os_]
        return {s: sum(o.status == s for o in all_o) for s in STATUSES}


def screen_province(
    province_dir: str | Path,
    out_dir: str | Path,
    *,
    params: AnalyzeParams | None = None,
    workers: int = 1,
    cluster: str | None = None,
    scheduler: str | None = None,
    client: Any = None,
    only_risk_above: float | None = None,
    fdr: float = 0.10,
    lang: str = "zh",
    show_personal_data: bool = False,
    reports: bool = True,
    on_progress: Callable[[ScreenProgress], None] | None = None,
    command: str = "examaudit screen",
) -> ScreeningResult:
    """Screen every exam point of a province folder into ``out_dir`` (see the module docstring).

    Runs on a local process pool of ``workers``, on a Dask cluster started here
    (``cluster="local:N"``), on one reached by address (``scheduler="tcp://host:8786"``) or on a
    given ``distributed.Client``. ``on_progress`` is called whenever a recording finishes or a
    stage starts. Reports and packs are written only for exam points whose risk (1 - q) is
    above ``only_risk_above`` when it is given.

    Raises:
        InputError: the province folder cannot be screened (every problem listed), or the
            cluster's workers cannot see the footage.
    """
    t0 = time.perf_counter()
    params = params or AnalyzeParams()
    out = Path(out_dir)
    plan = plan_province(province_dir, out, params)
    out.mkdir(parents=True, exist_ok=True)
    if client is not None:
        runner: LocalPool | DaskRunner = DaskRunner(client)
    elif cluster or scheduler:
        runner = DaskRunner.connect(cluster, scheduler)
    else:
        runner = LocalPool(workers)
    progress = ScreenProgress(plan.hours, 0.0, sum(len(ep.jobs) for ep in plan.exam_points), 0, 0, 0, "recordings")

    def tell(stage: str | None = None) -> None:
        if stage:
            progress.stage = stage
        if on_progress:
            on_progress(progress)

    try:
        if isinstance(runner, DaskRunner):
            sample = [j.path for ep in plan.exam_points for j in ep.jobs[:1] if j.path.is_file()][:4]
            runner.check_paths(sample + [out])
        result = _drive(plan, runner, params, progress, tell, command=command, fdr=fdr,
                        only_risk_above=only_risk_above, lang=lang, show=show_personal_data, reports=reports)
    finally:
        if client is None:
            runner.close()
        else:
            pass  # the caller owns the client
    result.seconds = time.perf_counter() - t0
    return result


def _drive(plan: ProvincePlan, runner: LocalPool | DaskRunner, params: AnalyzeParams, progress: ScreenProgress,
           tell: Callable[[str | None], None], *, command: str, fdr: float, only_risk_above: float | None,
           lang: str, show: bool, reports: bool) -> ScreeningResult:
    # -- step 1: recordings, longest first, each given a second try when its task fails
    jobs = [(ep, j, s) for ep in plan.exam_points for j, s in zip(ep.jobs, ep.seconds)]
    jobs.sort(key=lambda t: -t[2])
    pending: dict[Any, tuple[ExamPointFolder, RecordingJob, float, int]] = {}
    for ep, j, s in jobs:
        pending[runner.submit(analyse_job, j, priority=s)] = (ep, j, s, 1)
    outcomes: dict[str, list[RecordingOutcome]] = {ep.exam_point: [] for ep in plan.exam_points}
    progress.running = min(runner.workers, len(pending))
    tell("recordings")
    while pending:
        for fut in runner.wait_any(list(pending)):
            ep, j, s, attempt = pending.pop(fut)
            try:
                o = runner.result(fut)
                failed = o.status == "error"
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - a dead worker or a crash: retry once, then a finding
                o, failed = RecordingOutcome(j, "error", error=f"{type(exc).__name__}: {exc}"), True
            if failed and attempt < 2:
                pending[runner.submit(analyse_job, j, priority=s)] = (ep, j, s, attempt + 1)
                continue
            if failed:
                o = RecordingOutcome(j, "failed", error=f"analysis failed twice ({o.error})")
            outcomes[ep.exam_point].append(o)
            progress.hours_done += s / 3600
            progress.done += 1
            progress.failed += o.status == "failed"
            progress.running = min(runner.workers, len(pending))
            tell(None)

    # -- step 2: merge each exam point's recordings
    tell("merge")
    merge_futs = {ep.exam_point: runner.submit(merge_exam_point, ep, outcomes[ep.exam_point], params)
                  for ep in plan.exam_points}
    merged: dict[str, MergedVideo] = {}
    errors: dict[str, str] = {}
    for name, fut in merge_futs.items():
        try:
            merged[name] = runner.result(fut)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - one exam point's failure must not sink the province
            errors[name] = f"merge failed: {type(exc).__name__}: {exc}"

    # -- step 3: the province's records, once
    problems = list(plan.problems)
    records: ProvinceRecords | None = None
    if plan.records:
        tell("records")
        absent = set().union(*(m.absent for m in merged.values())) if merged else set()
        try:
            records = runner.result(runner.submit(screen_records, plan.records, absent, plan.out_dir / "records", command))
        except InputError as exc:
            problems.append(Problem(str(plan.root / "records"), f"records not screened: {exc}"))

    # -- step 4: fuse per exam point
    tell("fusion")
    by_name = {ep.exam_point: ep for ep in plan.exam_points}
    fuse_futs = {n: runner.submit(fuse_exam_point, by_name[n], m, records.only(n) if records else None, params, command)
                 for n, m in merged.items()}
    scores: list[ExamPointScore] = []
    for name, fut in fuse_futs.items():
        try:
            scores.append(runner.result(fut))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            errors[name] = f"fusion failed: {type(exc).__name__}: {exc}"
    have = {s.exam_point for s in scores} | set(errors)
    if records is not None:
        scores += [records_only_score(ep, records) for ep in sorted(records.exam_points) if ep not in have]

    # -- step 5: rank the province
    ranked = rank_province(scores, fdr)

    # -- step 6: reports and packs
    if reports:
        tell("reports")
        report_futs = {}
        for r in ranked:
            ep = by_name.get(r.score.exam_point)
            if ep is None or (only_risk_above is not None and r.risk <= only_risk_above):
                continue
            report_futs[ep.exam_point] = (r, runner.submit(report_exam_point, ep.out_dir, lang, show))
        for name, (r, fut) in report_futs.items():
            try:
                runner.result(fut)
                r.report = f"{name}/report.html"
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001
                errors[name] = f"report failed: {type(exc).__name__}: {exc}"

    # -- step 7: the province summary
    tell("summary")
    from .report.screening import write_screening

    result = ScreeningResult(plan, ranked, outcomes, problems, errors, executor=runner.description)
    result.files = write_screening(result, plan.out_dir, lang=lang, pdf=reports)
    progress.running = 0
    tell("done")
    return result
