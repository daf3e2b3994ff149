"""Coverage: which part of each exam session a camera's recording shows with usable footage.

Given the session schedule and the recording's wall clock (config ``footage_start`` or the
on-screen clock), every sample stands for the footage up to the next sample (at most one
sampling interval, so PTS holes are not bridged). Trusted samples make the usable part;
untrusted ones are listed with their quality label. Session time with no footage at all
(before the recording starts, after it ends) is a ``footage_gap``; holes inside the
recording are already reported by the bitstream pass and tamper checks, so they are listed
here but not reported twice.

Example:
    >>> from datetime import datetime
    >>> from examaudit.config import Session
    >>> s = Session(id="S1", start=datetime(2024, 6, 20, 9), end=datetime(2024, 6, 20, 9, 10))
    >>> rows = [{"t_s": float(t), "trusted": True} for t in range(0, 300, 5)]
    >>> cov = session_coverage([s], datetime(2024, 6, 20, 9, 0), rows, 5.0)
    >>> round(cov[0].usable_fraction, 2), [(round(a), round(b)) for a, b in cov[0].missing]
    (0.5, [(300, 600)])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..config import Session
from ..findings import FindingKind, Severity


@dataclass
class SessionCoverage:
    """One session seen through one recording.

    Attributes:
        session: the session id.
        start, end: the session's wall-clock span.
        usable_s: seconds of the session with trusted footage.
        missing: (start, end) in seconds from the session start with no footage at all.
        untrusted: (start, end, quality) in seconds from the session start with footage
            that cannot be trusted.
    """

    session: str
    start: datetime
    end: datetime
    usable_s: float
    missing: list[tuple[float, float]] = field(default_factory=list)
    untrusted: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def usable_fraction(self) -> float:
        return self.usable_s / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "duration_s": round(self.duration_s, 1),
            "usable_s": round(self.usable_s, 1),
            "usable_fraction": round(self.usable_fraction, 4),
            "missing": [{"from_s": round(a, 1), "to_s": round(b, 1)} for a, b in self.missing],
            "untrusted": [{"from_s": round(a, 1), "to_s": round(b, 1), "quality": q} for a, b, q in self.untrusted],
        }


def _merge(spans: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    for a, b, q in sorted(spans):
        if out and a <= out[-1][1] + 1e-6 and q == out[-1][2]:
            out[-1] = (out[-1][0], max(out[-1][1], b), q)
        else:
            out.append((a, b, q))
    return out


def session_coverage(sessions: list[Session], wall0: datetime, rows: list[dict[str, Any]], every_s: float,
                     tz: tzinfo | None = None) -> list[SessionCoverage]:
    """Coverage of each session by the samples in ``rows`` (``t_s``, ``trusted``, ``quality``)."""
    def aware(t: datetime) -> datetime:
        if t.tzinfo is None and wall0.tzinfo is not None:
            return t.replace(tzinfo=tz or wall0.tzinfo)
        return t

    pieces: list[tuple[float, float, str]] = []  # footage seconds
    ts = [float(r["t_s"]) for r in rows]
    for i, r in enumerate(rows):
        nxt = ts[i + 1] if i + 1 < len(ts) else ts[i] + every_s
        end = min(nxt, ts[i] + every_s)
        pieces.append((ts[i], end, "ok" if r.get("trusted", True) else str(r.get("quality", "untrusted"))))
    out = []
    for s in sessions:
        s0, s1 = aware(s.start), aware(s.end)
        off = (s0 - wall0).total_seconds()
        dur = (s1 - s0).total_seconds()
        inside = [(max(0.0, a - off), min(dur, b - off), q) for a, b, q in pieces if b - off > 0 and a - off < dur]
        usable = sum(b - a for a, b, q in inside if q == "ok")
        covered = _merge([(a, b, "x") for a, b, _ in inside])
        missing, cur = [], 0.0
        for a, b, _ in covered:
            if a > cur + 1e-6:
                missing.append((cur, a))
            cur = max(cur, b)
        if cur < dur - 1e-6:
            missing.append((cur, dur))
        untrusted = [(a, b, q) for a, b, q in _merge([p for p in inside if p[2] != "ok"])]
        out.append(SessionCoverage(s.id, s0, s1, usable, missing, untrusted))
    return out


def coverage_drafts(coverage: list[SessionCoverage], wall0: datetime, min_gap_s: float = 30.0) -> list:
    """``footage_gap`` for session time before the recording starts or after it ends.

    Holes inside the recording are left to the bitstream pass, which already reports them.
    """
    from .analyze import Draft

    out = []
    for c in coverage:
        for a, b in c.missing:
            if b - a < min_gap_s:
                continue
            at_start, at_end = a <= 1e-6, b >= c.duration_s - 1e-6
            if not (at_start or at_end):
                continue
            w0, w1 = c.start + timedelta(seconds=a), c.start + timedelta(seconds=b)
            where_zh = "开考后" if at_start else "结束前"
            where_en = "after the session started" if at_start else "before the session ended"
            out.append(Draft(
                # No footage seconds: the time is outside the recording; the wall clock says when.
                FindingKind.footage_gap, Severity.high if b - a >= 300 else Severity.medium,
                None, None, 0.95,
                f"场次 {c.session}（{c.start:%H:%M}–{c.end:%H:%M}）在 {w0:%H:%M:%S}–{w1:%H:%M:%S} 共 {(b - a) / 60:.1f} 分钟没有本摄像机的录像（{where_zh}）。",
                f"Session {c.session} ({c.start:%H:%M}–{c.end:%H:%M}) has no footage from this camera from {w0:%H:%M:%S} to {w1:%H:%M:%S}, {(b - a) / 60:.1f} minutes {where_en}.",
                {"session": c.session, "missing_s": round(b - a, 1), "usable_fraction": round(c.usable_fraction, 4),
                 "key": f"{c.session}-{a:.0f}"},
                wall_span=(w0, w1),
            ))
    return out
