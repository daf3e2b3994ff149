"""The report's view-model: everything the template shows, computed here and nowhere else.

Pure functions from :class:`~examaudit.report.auditdir.ReportInputs` to plain dataclasses.
No file is read and nothing is drawn here: charts are drawn from these views by
:mod:`examaudit.report.charts` and pages rendered by :mod:`examaudit.report.render`.
Personal data is masked here, once, so no template can leak it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..findings import KIND_TITLES, Finding, Severity
from .action import RULE_ROWS, MIN_CONFIDENCE, Recommendation, recommend
from .auditdir import RecordingData, ReportInputs
from .i18n import METHODS, tr
from .mask import mask_text, mask_value
from .reviews import ReviewDecision, counted_findings

SEVERITY_WEIGHT = {Severity.critical: 8.0, Severity.high: 4.0, Severity.medium: 2.0, Severity.low: 1.0, Severity.info: 0.0}
#: Seat cells in the grid
OCCUPIED, EMPTY, UNTRUSTED = 1, 0, -1
MAX_CANDIDATE_ROWS = 50
MAX_FRAMES_PER_FINDING = 4


# ----------------------------------------------------------------------------- small helpers


def fmt_footage(t: float | None) -> str:
    """Seconds into the footage as ``h:mm:ss.s`` / ``mm:ss.s``."""
    if t is None or t != t:
        return "—"
    h, rem = divmod(float(t), 3600)
    m, s = divmod(rem, 60)
    return f"{int(h)}:{int(m):02d}:{s:04.1f}" if h else f"{int(m):02d}:{s:04.1f}"


def fmt_wall(start: datetime | None, end: datetime | None = None) -> str:
    if start is None:
        return "—"
    text = start.strftime("%Y-%m-%d %H:%M:%S")
    if end is not None and end != start:
        text += "–" + (end.strftime("%H:%M:%S") if end.date() == start.date() else end.strftime("%Y-%m-%d %H:%M:%S"))
    off = start.strftime("%z")
    return f"{text} ({off[:3]}:{off[3:]})" if off else text


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _parse_time(v: Any) -> datetime | None:
    if not v:
        return None
    try:
        return datetime.fromisoformat(str(v))
    except ValueError:
        return None


def _mask(key: str, value: Any, show: bool) -> Any:
    return value if show else mask_value(key, value)


def _text(value: str, show: bool) -> str:
    return value if show else mask_text(value)


# ----------------------------------------------------------------------------- views


@dataclass
class FrameView:
    path: Path | None
    caption: str
    t_s: float | None
    sha256: str


@dataclass
class FindingView:
    id: str
    kind: str
    title: str
    severity: str
    severity_label: str
    source: str
    where: str
    candidate_id: str | None
    wall: str
    footage: str
    confidence: float
    reason: str
    details: list[tuple[str, str]]
    frames: list[FrameView]
    review: ReviewDecision | None = None  # the reviewer's decision, when there is one


@dataclass
class CoverageView:
    room: str | None
    camera: str | None
    recording: str
    duration_s: float | None
    wall0: datetime | None
    intervals: list[tuple[float, float]]  # seconds into the footage with pictures
    gaps: list[tuple[float, float]]
    missing_s: float
    sessions: list[dict[str, Any]]  # {session, covered (0..1 or None), estimated, gaps}
    marks: list[tuple[float, str]]  # (seconds, severity) of findings


@dataclass
class SeatGridView:
    room: str | None
    camera: str | None
    recording: str
    seats: list[str]
    t_s: list[float]
    matrix: list[list[int]]  # seats x samples: OCCUPIED / EMPTY / UNTRUSTED
    occupied_share: dict[str, float]
    table: list[dict[str, Any]] | None  # seats.csv rows, masked


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    note: str | None = None


@dataclass
class RecordsView:
    provided: bool
    score_hist: dict[str, Any] | None = None
    funnel: dict[str, Any] | None = None
    times: dict[str, list[float]] | None = None
    clusters: Table | None = None
    callbacks: list[dict[str, Any]] | None = None
    certificates: Table | None = None
    exam_points: Table | None = None
    validation: Table | None = None
    candidates: Table | None = None
    other: dict[str, str] = field(default_factory=dict)  # unknown summary keys, as JSON text


@dataclass
class RiskView:
    level: str  # i18n key: risk_high / risk_medium / risk_low / risk_none
    score: float
    reasons: list[str]
    counts: dict[str, int]  # severity -> count


@dataclass
class ReportModel:
    lang: str
    show_personal_data: bool
    exam_point: str
    name: str
    city: str
    started_at: str
    finished_at: str
    tool_version: str
    risk: RiskView
    coverage: list[CoverageView]
    findings: list[FindingView]
    seats: list[SeatGridView]
    records: RecordsView
    recommendation: Recommendation
    action_triggers: list[tuple[str, list[str]]]  # (action label, [finding titles])
    rule_rows: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    recordings_table: Table
    custody: Table | None
    custody_problems: list[str]
    methods: list[str]
    generated_at: str


# ----------------------------------------------------------------------------- risk


def risk_view(findings: list[Finding], lang: str, show: bool) -> RiskView:
    """Risk level from severity weights × confidence with a floor set by the worst finding.

    Reasons are the three strongest findings of distinct kinds.
    """
    score = sum(SEVERITY_WEIGHT[Severity(f.severity)] * f.confidence for f in findings)
    top = max((Severity(f.severity).rank for f in findings if f.confidence >= MIN_CONFIDENCE), default=-1)
    # The score says how much; the single worst finding sets a floor, so one high finding is never "low".
    if top >= Severity.critical.rank or score >= 8:
        level = "risk_high"
    elif top >= Severity.high.rank or score >= 4:
        level = "risk_medium"
    elif score > 0:
        level = "risk_low"
    else:
        level = "risk_none"
    ranked = sorted(findings, key=lambda f: (-Severity(f.severity).rank, -f.confidence, f.id))
    reasons, kinds = [], set()
    for f in ranked:
        if f.kind in kinds or Severity(f.severity) == Severity.info:
            continue
        kinds.add(f.kind)
        reasons.append(_text(f.reason_zh if lang == "zh" else f.reason_en, show))
        if len(reasons) == 3:
            break
    counts = {s.value: sum(1 for f in findings if Severity(f.severity) == s) for s in reversed(list(Severity))}
    return RiskView(level, round(score, 2), reasons, counts)


# ----------------------------------------------------------------------------- findings


def _where(f: Finding) -> str:
    parts = [p for p in (f.exam_point, f.room, f.camera, f.session) if p]
    return " / ".join(parts)


def finding_views(inputs: ReportInputs, lang: str, show: bool,
                  reviews: dict[str, ReviewDecision] | None = None) -> list[FindingView]:
    audit = inputs.audit
    out = []
    for f in (audit.findings.sorted().findings if audit.findings else []):
        zh, en = KIND_TITLES.get(f.kind, (f.kind.value, f.kind.value))
        frames = []
        for ev in f.evidence:
            if ev.type not in ("frame", "crop", "chart"):
                continue
            frames.append(FrameView(audit.evidence_file(f, ev), ev.caption or "", ev.t_s, ev.sha256))
            if len(frames) == MAX_FRAMES_PER_FINDING:
                break
        details = [(k, _short(_mask(k, v, show))) for k, v in f.details.items() if k != "key"]
        sev = Severity(f.severity).value
        out.append(FindingView(
            id=f.id, kind=f.kind.value, title=zh if lang == "zh" else en, severity=sev,
            severity_label=tr(f"sev_{sev}", lang), source=f.source.value, where=_where(f),
            candidate_id=f.candidate_id, wall=fmt_wall(f.wall_start, f.wall_end),
            footage=(f"{fmt_footage(f.start_s)}–{fmt_footage(f.end_s)}" if f.start_s is not None else "—")
            + (f" ({f.recording})" if f.recording else ""),
            confidence=f.confidence, reason=_text(f.reason_zh if lang == "zh" else f.reason_en, show),
            details=details, frames=frames, review=(reviews or {}).get(f.id),
        ))
    return out


def _fps_cell(probe: dict[str, Any], lang: str) -> str:
    """The frame rate, marked when the footage had no timestamps and its times were derived."""
    timing = probe.get("timing") or {}
    if timing.get("timestamps") == "derived":
        return f"{_short(timing.get('fps'))} ({'无时间戳，时间按帧推算' if lang == 'zh' else 'no timestamps: times derived'})"
    return _short((probe.get("video") or {}).get("fps", "—"))


def _short(v: Any, limit: int = 300) -> str:
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- coverage


def sample_intervals(t_s: list[float], every_s: float | None) -> list[tuple[float, float]]:
    """Join consecutive sample times closer than 2.5 sampling steps into intervals with pictures."""
    ts = sorted(t for t in t_s if t == t)
    if not ts:
        return []
    step = every_s or (min((b - a for a, b in zip(ts, ts[1:]) if b > a), default=1.0))
    out = [[ts[0], ts[0] + step]]
    for t in ts[1:]:
        if t - out[-1][1] <= 1.5 * step:
            out[-1][1] = t + step
        else:
            out.append([t, t + step])
    return [(a, b) for a, b in out]


def _subtract(intervals: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for a, b in intervals:
        pieces = [(a, b)]
        for ha, hb in holes:
            nxt = []
            for pa, pb in pieces:
                if hb <= pa or ha >= pb:
                    nxt.append((pa, pb))
                    continue
                if ha > pa:
                    nxt.append((pa, ha))
                if hb < pb:
                    nxt.append((hb, pb))
            pieces = nxt
        out.extend(pieces)
    return out


def coverage_view(rd: RecordingData, findings: list[Finding], sessions: list[dict[str, Any]],
                  every_s: float | None) -> CoverageView:
    e = rd.entry
    mine = [f for f in findings if f.recording == e.name and (f.camera in (None, e.camera))]
    gaps = sorted((f.start_s, f.end_s) for f in mine if f.kind.value == "footage_gap" and f.start_s is not None
                  and f.end_s is not None)
    timeline = (e.probe or {}).get("timeline") or {}
    duration = _num(timeline.get("duration_s")) or _num((e.probe or {}).get("duration_s"))
    wall0 = None
    if rd.samples:
        t = [_num(r.get("t_s")) for r in rd.samples]
        intervals = sample_intervals([x for x in t if x is not None], every_s)
        first = rd.samples[0]
        w = _parse_time(first.get("wall_time"))
        if w is not None and _num(first.get("t_s")) is not None:
            wall0 = w - timedelta(seconds=float(first["t_s"]))
    else:
        intervals = [(0.0, duration)] if duration else []
    intervals = _subtract(intervals, gaps)
    if wall0 is None:
        starts = [f.wall_start - timedelta(seconds=f.start_s) for f in mine
                  if f.wall_start is not None and f.start_s is not None]
        wall0 = starts[0] if starts else None
    missing = sum(b - a for a, b in gaps)
    sess = []
    cov = rd.coverage or {}
    for s in cov.get("sessions", []) if isinstance(cov, dict) else []:
        sess.append({"session": s.get("session") or s.get("id"), "covered": _num(s.get("covered_fraction", s.get("covered"))),
                     "estimated": False, "gaps": len(s.get("gaps") or [])})
    if not sess and wall0 is not None:
        for s in sessions:
            a, b = _parse_time(s.get("start")), _parse_time(s.get("end"))
            if a is None or b is None:
                continue
            if a.tzinfo is None and wall0.tzinfo is not None:
                a, b = a.replace(tzinfo=wall0.tzinfo), b.replace(tzinfo=wall0.tzinfo)
            try:
                sa, sb = (a - wall0).total_seconds(), (b - wall0).total_seconds()
            except TypeError:
                continue
            if sb <= sa:
                continue
            inside = sum(max(0.0, min(sb, y) - max(sa, x)) for x, y in intervals)
            sess.append({"session": s.get("id"), "covered": min(1.0, inside / (sb - sa)), "estimated": True, "gaps": None})
    marks = [(f.start_s, Severity(f.severity).value) for f in mine if f.start_s is not None]
    return CoverageView(e.room, e.camera, e.name, duration, wall0, intervals, gaps, missing, sess, marks)


# ----------------------------------------------------------------------------- seats


def seat_grid(rd: RecordingData, show: bool) -> SeatGridView | None:
    rows = rd.samples or []
    seat_cols = [c for c in (rows[0].keys() if rows else []) if c.startswith("seat_")]
    if not seat_cols:
        return None
    seats = [c[len("seat_"):] for c in seat_cols]
    t = [_num(r.get("t_s")) or 0.0 for r in rows]
    matrix = []
    for c in seat_cols:
        line = []
        for r in rows:
            trusted = str(r.get("trusted", "1")).strip().lower() not in ("0", "false", "no")
            v = str(r.get(c, "")).strip()
            occupied = v not in ("", "0", "0.0", "false", "False", "none", "empty")
            line.append(UNTRUSTED if not trusted or v == "" else (OCCUPIED if occupied else EMPTY))
        matrix.append(line)
    share = {}
    for s, line in zip(seats, matrix):
        known = [x for x in line if x != UNTRUSTED]
        share[s] = (sum(1 for x in known if x == OCCUPIED) / len(known)) if known else float("nan")
    table = None
    if rd.seats:
        table = [{k: _mask(k, v, show) for k, v in r.items()} for r in rd.seats]
    e = rd.entry
    return SeatGridView(e.room, e.camera, e.name, seats, t, matrix, share, table)


# ----------------------------------------------------------------------------- records


_SUMMARY_KEYS = {
    "score_hist": ("score_histogram", "score_hist", "scores"),
    "funnel": ("funnel", "pass_rate_funnel", "funnel_points"),
    "times": ("completion_times", "completion_time", "time_distributions", "times"),
    "clusters": ("similarity_clusters", "clusters", "similarity"),
    "callbacks": ("callback_rates", "callbacks", "callback"),
    "certificates": ("certificates", "certificate_checks", "certificate_cross_checks"),
}


def _table(rows: list[dict[str, Any]] | None, show: bool, limit: int | None = None, lang: str = "zh") -> Table | None:
    if not rows:
        return None
    cols = list(rows[0].keys())
    shown = rows[:limit] if limit else rows
    note = tr("rows_shown", lang, n=len(shown), total=len(rows)) if limit and len(rows) > limit else None
    return Table(cols, [[_short(_cell(r, c, show), 120) for c in cols] for r in shown], note)


def _cell(row: dict[str, Any], col: str, show: bool) -> Any:
    # validation.csv names the offending column and quotes its value: mask the value as that column
    if col == "value" and row.get("column"):
        return _mask(str(row["column"]), row.get(col), show)
    return _mask(col, row.get(col), show)


def records_view(inputs: ReportInputs, lang: str, show: bool) -> RecordsView:
    rec = inputs.records
    summary = dict(rec.summary or {})
    view = RecordsView(provided=any(x is not None for x in (rec.candidates, rec.exam_points, rec.validation, rec.summary)))
    picked: dict[str, Any] = {}
    for name, keys in _SUMMARY_KEYS.items():
        for k in keys:
            if k in summary:
                picked[name] = summary.pop(k)
                break
    view.score_hist = picked.get("score_hist") if isinstance(picked.get("score_hist"), dict) else None
    f = picked.get("funnel")
    view.funnel = {"points": f} if isinstance(f, list) else (f if isinstance(f, dict) else None)
    t = picked.get("times")
    if isinstance(t, dict):
        groups = t.get("groups", t)
        view.times = {str(k): [x for x in (_num(v) for v in vals) if x is not None]
                      for k, vals in groups.items() if isinstance(vals, list)} or None
    c = picked.get("clusters")
    if isinstance(c, list) and c and isinstance(c[0], dict):
        view.clusters = _table([{k: (", ".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()}
                                for r in c], show)
    cb = picked.get("callbacks")
    if isinstance(cb, dict):
        cb = cb.get("points") or cb.get("rates") or [dict(exam_point=k, **v) for k, v in cb.items() if isinstance(v, dict)]
    view.callbacks = cb if isinstance(cb, list) and cb and isinstance(cb[0], dict) else None
    cert = picked.get("certificates")
    if isinstance(cert, dict):
        view.certificates = Table([tr("kind", lang), tr("count", lang)],
                                  [[_cert_label(k, lang), _short(v)] for k, v in cert.items()])
    elif isinstance(cert, list) and cert and isinstance(cert[0], dict):
        view.certificates = _table(cert, show)
    # shapes we did not understand are shown raw rather than dropped
    for name, val in picked.items():
        if getattr(view, name) is None and val not in (None, [], {}):
            view.other[name] = json.dumps(_mask(name, val, show), ensure_ascii=False, indent=1, default=str)[:4000]
    for k, v in summary.items():
        view.other[k] = json.dumps(_mask(k, v, show), ensure_ascii=False, indent=1, default=str)[:4000]
    view.exam_points = _table(rec.exam_points, show, 40, lang)
    view.validation = _table(rec.validation, show, 40, lang)
    view.candidates = _table(rec.candidates, show, MAX_CANDIDATE_ROWS, lang)
    return view


def _cert_label(key: str, lang: str) -> str:
    from ..findings import FindingKind

    try:
        zh, en = KIND_TITLES[FindingKind(key)]
        return zh if lang == "zh" else en
    except ValueError:
        return key


# ----------------------------------------------------------------------------- assembly


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(d, dict):
        out = []
        for k, v in d.items():
            out.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return [(prefix, _short(d, 200))]


def build_model(inputs: ReportInputs, *, lang: str = "zh", show_personal_data: bool = False,
                generated_at: datetime | None = None, reviews: dict[str, ReviewDecision] | None = None) -> ReportModel:
    """Compute every section of the report from the audit directory's content.

    ``reviews``: decisions by finding id; dismissed findings stay listed (marked, with the
    reason) but are left out of the risk and the recommended action.
    """
    audit = inputs.audit
    meta = audit.meta
    show = show_personal_data
    reviews = reviews or {}
    findings = counted_findings(audit.findings.findings if audit.findings else [], reviews)
    cfg = meta.get("config") or {}
    params = dict(meta.get("parameters") or {})
    if audit.findings is not None:
        for k, v in audit.findings.run.parameters.items():
            params.setdefault(k, v)
    every_s = _num(params.get("every_s"))
    coverage = [coverage_view(rd, findings, cfg.get("sessions") or [], every_s) for rd in inputs.recordings]
    seats = [g for g in (seat_grid(rd, show) for rd in inputs.recordings) if g is not None]
    rec = recommend(findings)
    by_id = {f.id: f for f in findings}
    triggers = []
    for action in reversed(rec.actions):
        ids = rec.triggers.get(action, [])
        titles = []
        for i in ids:
            f = by_id[i]
            zh, en = KIND_TITLES.get(f.kind, (f.kind.value, f.kind.value))
            titles.append(f"{zh if lang == 'zh' else en}（{tr('sev_' + Severity(f.severity).value, lang)}）"
                          if lang == "zh" else f"{en} ({Severity(f.severity).value})")
        triggers.append((tr(action, lang), list(dict.fromkeys(titles))))
    recordings_table = Table(
        [tr("room", lang), tr("camera", lang), tr("recording", lang), "SHA-256", "codec", "size", "fps", tr("duration", lang)],
        [[r.room or "—", r.camera or "—", r.name, r.sha256 or "—",
          ((r.probe or {}).get("video") or {}).get("codec", "—"),
          "{}x{}".format(((r.probe or {}).get("video") or {}).get("width", "?"), ((r.probe or {}).get("video") or {}).get("height", "?")),
          _fps_cell(r.probe or {}, lang),
          fmt_footage(_num((r.probe or {}).get("duration_s")))] for r in audit.recordings],
    )
    custody = None
    if inputs.custody is not None:
        custody = Table([tr("time", lang), tr("step", lang), tr("actor", lang), tr("tool_version", lang)],
                        [[str(e.get("at", ""))[:19].replace("T", " "), e.get("action", ""), e.get("actor", ""),
                          e.get("tool_version", "")] for e in inputs.custody])
    run = audit.findings.run if audit.findings else None
    idx = 0 if lang == "zh" else 1
    return ReportModel(
        lang=lang,
        show_personal_data=show,
        exam_point=str(audit.exam_point or "—"),
        name=str(meta.get("name") or cfg.get("name") or ""),
        city=str(meta.get("city") or cfg.get("city") or ""),
        started_at=str(meta.get("started_at") or (run.started_at.isoformat() if run else "—"))[:19].replace("T", " "),
        finished_at=str(meta.get("finished_at") or (run.finished_at.isoformat() if run else "—"))[:19].replace("T", " "),
        tool_version=str(meta.get("tool_version") or (run.tool_version if run else "—")),
        risk=risk_view(findings, lang, show),
        coverage=coverage,
        findings=finding_views(inputs, lang, show, reviews),
        seats=seats,
        records=records_view(inputs, lang, show),
        recommendation=rec,
        action_triggers=triggers,
        rule_rows=[(tr(k, lang), zh if lang == "zh" else en) for k, zh, en in RULE_ROWS],
        parameters=_flatten(params),
        recordings_table=recordings_table,
        custody=custody,
        custody_problems=inputs.custody_problems,
        methods=[v[idx] for v in METHODS.values()],
        generated_at=(generated_at or datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M"),
    )
