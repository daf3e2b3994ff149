"""What the browser pages draw from an audit folder: timelines, head counts, charts, finding rows.

Pure functions from the report's view-model (:mod:`examaudit.report.model`, the same one the PDF
report uses, so the page and the report never disagree) to plain dicts of geometry that the
Jinja2 templates turn into inline SVG. Nothing here decides whether something is irregular: the
findings already say so; this only places them on a wall-clock axis.

Geometry is in a 0..1000 wide coordinate space (the templates use ``viewBox="0 0 1000 h"``).
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..findings import KIND_TITLES, Finding, FindingKind, Severity
from ..report.auditdir import RecordingData, ReportInputs, load_audit_dir, load_report_inputs
from ..report.reviews import ReviewDecision
from ..report.model import ReportModel, build_model, fmt_footage, sample_intervals
# The report's own readers of samples.csv cells, so the page and the report parse them alike.
from ..report.model import _num as _float, _parse_time as _parse  # noqa: E402

WIDTH = 1000.0


def kind_title(kind: str, lang: str) -> str:
    try:
        zh, en = KIND_TITLES[FindingKind(kind)]
    except ValueError:
        return kind
    return zh if lang == "zh" else en


@dataclass
class Segment:
    x: float
    w: float
    kind: str  # ok / gap / untrusted
    label: str  # "14:00:09–14:00:10", read by screen readers as the segment's title


@dataclass
class Mark:
    x: float
    finding_id: str
    severity: str
    title: str  # kind title + time, the mark's accessible name
    lane: int = 0  # marks at the same place stack upwards instead of hiding each other


@dataclass
class TimelineRow:
    room: str | None
    camera: str | None
    recording: str
    segments: list[Segment]
    marks: list[Mark]
    covered: float | None  # share of the window with usable footage


@dataclass
class Timeline:
    session: str
    start: datetime
    end: datetime
    ticks: list[tuple[float, str]]
    rows: list[TimelineRow]


@dataclass
class HeadcountSeries:
    room: str | None
    camera: str | None
    points: str  # SVG polyline "x,y x,y"
    roster: int | None  # seats with a candidate in the config (the count records expect)
    roster_y: float | None
    y_max: int
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str]]
    latest: int | None
    peak: int | None


@dataclass
class ExamPointPage:
    model: ReportModel
    timelines: list[Timeline]
    headcounts: list[HeadcountSeries]
    charts: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)


def _ticks(start: datetime, end: datetime, n: int = 6) -> list[tuple[float, str]]:
    span = (end - start).total_seconds()
    if span <= 0:
        return []
    steps = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
    step = next((s for s in steps if span / s <= n), 7200)
    first = math.ceil(start.timestamp() / step) * step
    out = []
    t = first
    fmt = "%H:%M:%S" if step < 60 else "%H:%M"
    while t <= end.timestamp() + 1e-6:
        x = (t - start.timestamp()) / span * WIDTH
        out.append((round(x, 1), datetime.fromtimestamp(t, start.tzinfo).strftime(fmt)))
        t += step
    return out


def _wall0(rd: RecordingData) -> datetime | None:
    for r in rd.samples or []:
        w, t = _parse(r.get("wall_time")), _float(r.get("t_s"))
        if w is not None and t is not None:
            return w - timedelta(seconds=t)
    return None


def _clip(a: datetime, b: datetime, lo: datetime, hi: datetime) -> tuple[datetime, datetime] | None:
    a, b = max(a, lo), min(b, hi)
    return (a, b) if b > a else None


def _windows(cfg: dict[str, Any], rows: list[tuple[RecordingData, datetime | None, float]], tz) -> list[tuple[str, datetime, datetime, str | None]]:
    out = []
    for s in cfg.get("sessions") or []:
        a, b = _parse(s.get("start")), _parse(s.get("end"))
        if a is None or b is None:
            continue
        if a.tzinfo is None:
            a, b = a.replace(tzinfo=tz), b.replace(tzinfo=tz)
        out.append((str(s.get("id")), a, b, s.get("room")))
    if not out:  # no schedule: the span the footage covers
        spans = [(w0, w0 + timedelta(seconds=d)) for _, w0, d in rows if w0 is not None and d > 0]
        if spans:
            out.append(("—", min(a for a, _ in spans), max(b for _, b in spans), None))
    return out


def timelines(inputs: ReportInputs, findings: list[Finding], lang: str) -> list[Timeline]:
    """Per session, one row per camera: usable footage, gaps, untrusted stretches, finding marks."""
    from zoneinfo import ZoneInfo

    cfg = inputs.audit.meta.get("config") or {}
    try:
        tz = ZoneInfo(cfg.get("timezone") or "Asia/Shanghai")
    except (KeyError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    every = _float((inputs.audit.meta.get("parameters") or {}).get("every_s"))
    if every is None and inputs.audit.findings is not None:
        every = _float(inputs.audit.findings.run.parameters.get("every_s"))
    rows = []
    for rd in inputs.recordings:
        probe = rd.entry.probe or {}
        dur = _float((probe.get("timeline") or {}).get("duration_s")) or _float(probe.get("duration_s")) or 0.0
        rows.append((rd, _wall0(rd), dur))
    out = []
    for sid, start, end, room in _windows(cfg, rows, tz):
        span = (end - start).total_seconds()

        def x(t: datetime) -> float:
            return round((t - start).total_seconds() / span * WIDTH, 2)

        trows = []
        for rd, w0, dur in rows:
            if room is not None and rd.entry.room not in (None, room):
                continue
            e = rd.entry
            mine = [f for f in findings if f.recording == e.name and f.camera in (None, e.camera)]
            segs: list[Segment] = []
            covered = None
            if w0 is not None:
                ts = [t for t in (_float(r.get("t_s")) for r in rd.samples or []) if t is not None]
                ok = sample_intervals(ts, every) if ts else ([(0.0, dur)] if dur else [])
                gaps = sorted((f.start_s, f.end_s) for f in mine if f.kind == FindingKind.footage_gap
                              and f.start_s is not None and f.end_s is not None)
                bad = [t for r in rd.samples or [] if str(r.get("trusted", "1")).strip() in ("0", "false", "False")
                       for t in [_float(r.get("t_s"))] if t is not None]
                untrusted = sample_intervals(bad, every) if bad else []
                inside = 0.0
                for a, b in ok:
                    c = _clip(w0 + timedelta(seconds=a), w0 + timedelta(seconds=b), start, end)
                    if c:
                        inside += (c[1] - c[0]).total_seconds()
                        segs.append(Segment(x(c[0]), max(0.8, x(c[1]) - x(c[0])), "ok", _span_label(*c)))
                # whatever of the window has no pictures is missing, whether the file says so or not;
                # less than one sampling step at either end is the sampling grid, not a gap
                tol = max(0.5, (every or 1.0) * 1.01)
                cursor = start
                for s in sorted(segs, key=lambda s: s.x):
                    s_start = start + timedelta(seconds=s.x / WIDTH * span)
                    if (s_start - cursor).total_seconds() > tol:
                        segs.append(Segment(x(cursor), x(s_start) - x(cursor), "gap", _span_label(cursor, s_start)))
                    cursor = max(cursor, s_start + timedelta(seconds=s.w / WIDTH * span))
                if (end - cursor).total_seconds() > tol:
                    segs.append(Segment(x(cursor), x(end) - x(cursor), "gap", _span_label(cursor, end)))
                for a, b in gaps:
                    c = _clip(w0 + timedelta(seconds=a), w0 + timedelta(seconds=b), start, end)
                    if c:
                        segs.append(Segment(x(c[0]), max(1.5, x(c[1]) - x(c[0])), "gap", _span_label(*c)))
                for a, b in untrusted:
                    c = _clip(w0 + timedelta(seconds=a), w0 + timedelta(seconds=b), start, end)
                    if c:
                        segs.append(Segment(x(c[0]), max(1.5, x(c[1]) - x(c[0])), "untrusted", _span_label(*c)))
                covered = inside / span if span > 0 else None
            marks = []
            for f in mine:
                t = f.wall_start or (w0 + timedelta(seconds=f.start_s) if w0 is not None and f.start_s is not None else None)
                if t is None or not (start <= t <= end):
                    continue
                marks.append(Mark(x(t), f.id, Severity(f.severity).value,
                                  f"{kind_title(f.kind.value, lang)} {t.astimezone(tz).strftime('%H:%M:%S')}"))
            order = {"ok": 0, "gap": 1, "untrusted": 2}
            segs.sort(key=lambda s: (order[s.kind], s.x))
            marks.sort(key=lambda m: m.x)
            for i, m in enumerate(marks):
                m.lane = sum(1 for o in marks[:i] if abs(o.x - m.x) < 12)
            trows.append(TimelineRow(e.room, e.camera, e.name, segs, marks, covered))
        out.append(Timeline(sid, start.astimezone(tz), end.astimezone(tz), _ticks(start.astimezone(tz), end.astimezone(tz)), trows))
    return out


def _span_label(a: datetime, b: datetime) -> str:
    return f"{a.strftime('%H:%M:%S')}–{b.strftime('%H:%M:%S')}"


def headcounts(inputs: ReportInputs, height: float = 160.0) -> list[HeadcountSeries]:
    """Seated people over time per camera against the roster's count for that camera's seats."""
    cfg = inputs.audit.meta.get("config") or {}
    roster: dict[str, int] = {}
    for room in cfg.get("rooms") or []:
        for cam in room.get("cameras") or []:
            n = sum(1 for s in cam.get("seats") or [] if s.get("candidate_id"))
            roster[str(cam.get("id"))] = n
    out = []
    for rd in inputs.recordings:
        rows = rd.samples or []
        pts = []
        for r in rows:
            t = _float(r.get("t_s"))
            n = _float(r.get("seated"))
            if n is None:
                n = _float(r.get("persons"))
            trusted = str(r.get("trusted", "1")).strip() not in ("0", "false", "False")
            if t is not None and n is not None and trusted:
                pts.append((t, n))
        if not pts:
            continue
        expected = roster.get(str(rd.entry.camera)) or None
        y_max = int(max([n for _, n in pts] + [expected or 0, 1]) * 1.15 + 1)
        t0, t1 = pts[0][0], max(pts[-1][0], pts[0][0] + 1)
        w0 = _wall0(rd)

        def y(v: float) -> float:
            return round(height - v / y_max * height, 1)

        poly = " ".join(f"{round((t - t0) / (t1 - t0) * WIDTH, 1)},{y(n)}" for t, n in pts)
        step = max(1, y_max // 4)
        x_ticks = []
        if w0 is not None:
            x_ticks = _ticks(w0 + timedelta(seconds=t0), w0 + timedelta(seconds=t1), 5)
        out.append(HeadcountSeries(
            rd.entry.room, rd.entry.camera, poly, expected, y(expected) if expected else None, y_max,
            [(y(v), v) for v in range(0, y_max + 1, step)], x_ticks, int(pts[-1][1]), int(max(n for _, n in pts)),
        ))
    return out


#: One computation per key at a time: when an audit ends, every open page asks for the new version at
#: once; without this each request thread would load and draw the same thing (seconds each) side by side.
_FLIGHTS = [threading.Lock() for _ in range(16)]


def _once(fn, *key):
    """``fn(*key)`` (an lru_cache'd function): threads asking for the same key wait for the first one."""
    with _FLIGHTS[hash(key) % len(_FLIGHTS)]:
        return fn(*key)


@lru_cache(maxsize=16)
def _inputs_cached(audit_dir: str, mtime: float) -> ReportInputs:
    return load_report_inputs(load_audit_dir(audit_dir))


#: (lang, digest of the numbers) -> the records charts; a few exam points in two languages.
_CHARTS: dict[tuple[str, str], dict[str, Any]] = {}
_CHARTS_KEPT = 64


def _records_charts(model: ReportModel) -> dict[str, Any]:
    """The records charts (matplotlib, seconds each on a busy machine), cached by what they draw.

    Not by the audit's version: a rerun of the video side (a new upload, a seat map edit) leaves the
    records numbers as they were, and the page should not draw them again for that. The digest
    covers everything :func:`~examaudit.report.render.draw_records_charts` reads.
    """
    from ..report.render import draw_records_charts

    rec = model.records
    drawn = repr((model.exam_point, rec.score_hist, rec.funnel, rec.times, rec.callbacks))
    key = (model.lang, hashlib.sha256(drawn.encode("utf-8")).hexdigest())
    with _FLIGHTS[hash(key) % len(_FLIGHTS)]:
        charts = _CHARTS.get(key)
        if charts is None:
            charts = draw_records_charts(model)
            if len(_CHARTS) >= _CHARTS_KEPT:
                _CHARTS.pop(next(iter(_CHARTS)), None)  # the oldest
            _CHARTS[key] = charts
    return dict(charts)


def exam_point_page(audit_dir: str | Path, lang: str, show_personal_data: bool,
                    reviews: dict[str, ReviewDecision] | None = None) -> ExamPointPage:
    """Everything the exam point page draws, with the risk counted as the report counts it
    (dismissed findings left out). Inputs are cached per audit version (findings.json's mtime),
    the records charts per what they draw."""
    d = Path(audit_dir)
    f = d / "findings.json"
    mtime = f.stat().st_mtime if f.is_file() else 0.0
    inputs = _once(_inputs_cached, str(d.resolve()), mtime)
    model = build_model(inputs, lang=lang, show_personal_data=show_personal_data, reviews=reviews or {})
    findings = inputs.audit.findings.sorted().findings if inputs.audit.findings else []
    return ExamPointPage(model, timelines(inputs, findings, lang), headcounts(inputs), _records_charts(model), findings)


def footage_time(f: Finding) -> str:
    if f.start_s is None:
        return "—"
    return f"{fmt_footage(f.start_s)}–{fmt_footage(f.end_s)}"


# ----------------------------------------------------------------------------- the province dashboard

REVIEW_STATUSES = ("unreviewed", "in_review", "reviewed")


def dashboard_row(code: str, name: str, city: str | None, findings: list[Finding],
                  reviews: dict[str, ReviewDecision], job: dict[str, Any] | None, lang: str,
                  show_personal_data: bool) -> dict[str, Any]:
    """One exam point as the dashboard lists it: risk as the report counts it (dismissed left out),
    q-value of the fused screen, the three strongest reasons, counts by severity, review status."""
    from ..report.model import risk_view
    from ..report.reviews import counted_findings

    counted = counted_findings(findings, reviews)
    risk = risk_view(counted, lang, show_personal_data)
    q = None
    for f in findings:
        if f.kind == FindingKind.exam_point_risk:
            q = _float(f.details.get("q_value"))
    reviewable = [f for f in findings if Severity(f.severity) != Severity.info]
    done = sum(1 for f in reviewable if f.id in reviews)
    status = "unreviewed" if done == 0 else ("reviewed" if done >= len(reviewable) else "in_review")
    counts = risk.counts
    return {
        "code": code, "name": name, "city": city, "audited": bool(findings) or (job or {}).get("state") == "done",
        "risk_level": risk.level, "risk_score": risk.score, "q_value": q, "reasons": risk.reasons,
        "counts": counts, "review_status": status, "reviewed": done, "reviewable": len(reviewable), "job": job,
        # severity counts as one sortable number: critical dominates high dominates medium ...
        "sort_counts": sum(counts.get(s.value, 0) * 1000 ** s.rank for s in Severity),
    }
