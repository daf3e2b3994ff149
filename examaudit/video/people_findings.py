"""People findings from a recording's people timeline: absences, late arrivals and early
departures, extra people, lingering beside a seat, an empty invigilator desk, and headcounts
that disagree with the records.

Every function here is pure: arrays in, :class:`~examaudit.video.analyze.Draft` findings out.
Samples whose picture could not be trusted (``valid`` false; integrity decides) never count
as evidence; a finding whose time range holds some says how many were left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Sequence

import numpy as np

from ..findings import FindingKind, Severity
from .analyze import Draft
from .people_rules import PeopleThresholds
from .seats import SeatMap, runs


@dataclass
class PeopleTimeline:
    """What the people check saw, sample by sample. Arrays have ``T`` rows (samples), ``S`` seats.

    Attributes:
        t_s: seconds into the footage.
        valid: the picture can be trusted.
        occupied: ``(T, S)`` smoothed seat occupancy.
        excess: people beyond seated candidates plus allowed invigilators.
        zone_present: somebody is in the invigilator zone.
        beside: ``(T, S)`` someone on their feet beside this (occupied) seat.
        boxes, kinds, track_ids: per sample, the people boxes (analysed pixels), what each is
            (``seated``, ``standing``, ``invigilator``) and its track id.
        wall: wall-clock ISO time per sample, when known.
    """

    t_s: np.ndarray
    valid: np.ndarray
    occupied: np.ndarray
    excess: np.ndarray
    zone_present: np.ndarray
    beside: np.ndarray
    boxes: list[np.ndarray] = field(default_factory=list)
    kinds: list[list[str]] = field(default_factory=list)
    track_ids: list[np.ndarray] = field(default_factory=list)
    wall: list[str | None] = field(default_factory=list)

    @property
    def dt(self) -> float:
        return float(np.median(np.diff(self.t_s))) if len(self.t_s) > 1 else 1.0

    def end_s(self) -> float:
        return float(self.t_s[-1] + self.dt) if len(self.t_s) else 0.0


_KIND_ZH = {"seated": "就座", "standing": "站立", "invigilator": "监考"}


def sustained(flag: np.ndarray, t_s: np.ndarray, valid: np.ndarray, min_s: float, gap_s: float) -> list[tuple[int, int]]:
    """``[i0, i1)`` sample ranges where ``flag`` holds for at least ``min_s`` seconds.

    Only trusted samples count; untrusted ones neither support nor break a range. Gaps of at
    most ``gap_s`` seconds (a missed detection) are bridged.
    """
    t_s = np.asarray(t_s, np.float64)
    idx = np.flatnonzero(np.asarray(valid, bool))
    if len(idx) == 0:
        return []
    dt = float(np.median(np.diff(t_s))) if len(t_s) > 1 else 1.0
    f = np.asarray(flag, bool)[idx]
    ts = t_s[idx]
    spans = runs(f)
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and ts[a] - ts[merged[-1][1] - 1] - dt <= gap_s + 1e-9:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if ts[b - 1] - ts[a] + dt >= min_s - 1e-9:
            i0, i1 = int(idx[a]), int(idx[b - 1]) + 1
            out.append((i0, i1))
    return out


def _untrusted(tl: PeopleTimeline, i0: int, i1: int) -> int:
    return int((~tl.valid[i0:i1]).sum())


def _untrusted_note(n: int) -> tuple[str, str]:
    if n == 0:
        return "", ""
    return f"其间 {n} 个画面不可信（遮挡、冻结等），未计入判断。", f" {n} sample(s) in this span could not be trusted and were left out."


def _overlay(tl: PeopleTimeline, i: int, seats: SeatMap, seat_idx: Sequence[int] = ()) -> dict[str, Any]:
    boxes = tl.boxes[i] if i < len(tl.boxes) else np.zeros((0, 4))
    kinds = tl.kinds[i] if i < len(tl.kinds) else []
    ids = tl.track_ids[i] if i < len(tl.track_ids) else np.zeros(0, int)
    labels = [f"#{int(k)} {_KIND_ZH.get(kind, kind)}" for k, kind in zip(ids, kinds)]
    return {
        "boxes": [[round(float(v), 1) for v in b] for b in boxes],
        "labels": labels,
        "kinds": list(kinds),
        "polygons": [np.round(seats.polygons[j], 1).tolist() for j in seat_idx],
        "polygon_labels": [f"座位 {seats.numbers[j]}" for j in seat_idx],
    }


def _draft(kind: FindingKind, severity: Severity, tl: PeopleTimeline, i0: int, i1: int, start_s: float, end_s: float,
           confidence: float, zh: str, en: str, details: dict[str, Any], seats: SeatMap, seat_idx: Sequence[int] = (),
           candidate_id: str | None = None, show: int | None = None) -> Draft:
    n_bad = _untrusted(tl, i0, i1)
    zh_note, en_note = _untrusted_note(n_bad)
    trusted = [i for i in range(i0, i1) if tl.valid[i]]
    show = show if show is not None else (trusted[len(trusted) // 2] if trusted else i0)
    show = min(max(show, 0), len(tl.t_s) - 1)
    details = {**details, "samples": i1 - i0, "untrusted_samples_excluded": n_bad}
    return Draft(kind, severity, round(start_s, 3), round(max(end_s, start_s), 3), confidence, zh + zh_note, en + en_note,
                 details, frames=[(float(tl.t_s[show]), f"{kind.value} 证据 / evidence")],
                 overlay=_overlay(tl, show, seats, seat_idx), candidate_id=candidate_id)


def session_refs(tl: PeopleTimeline, seats: SeatMap, schedule: tuple[float, float] | None = None) -> tuple[float, float]:
    """When candidates were due in their seats and due to leave, in seconds into the footage.

    From the session schedule when wall-clock time is known (clipped to the footage);
    otherwise when most rostered seats were first and last occupied, so footage that starts
    before the candidates come in, or runs on after they go, does not make everyone late.
    """
    t0, t1 = float(tl.t_s[0]), tl.end_s()
    if schedule is not None:
        return max(t0, schedule[0]), min(t1, schedule[1])
    firsts, lasts = [], []
    for j in np.flatnonzero(seats.rostered):
        occ = np.flatnonzero(tl.occupied[:, j] & tl.valid)
        if len(occ):
            firsts.append(tl.t_s[occ[0]])
            lasts.append(tl.t_s[occ[-1]] + tl.dt)
    if not firsts:
        return t0, t1
    return max(t0, float(np.median(firsts))), min(t1, float(np.median(lasts)))


def seat_drafts(tl: PeopleTimeline, seats: SeatMap, th: PeopleThresholds,
                schedule: tuple[float, float] | None = None) -> list[Draft]:
    """``absent_candidate`` and ``candidate_left`` for every rostered seat."""
    drafts: list[Draft] = []
    if len(tl.t_s) == 0 or not tl.valid.any():
        return drafts
    start_ref, end_ref = session_refs(tl, seats, schedule)
    dt = tl.dt
    for j in np.flatnonzero(seats.rostered):
        num, cid = seats.numbers[j], seats.candidate_ids[j]
        occ = tl.occupied[:, j] & tl.valid
        seen = np.flatnonzero(occ)
        if len(seen) == 0:
            n = len(tl.t_s)
            drafts.append(_draft(
                FindingKind.absent_candidate, Severity.high, tl, 0, n, float(tl.t_s[0]), tl.end_s(), 0.9,
                f"座位 {num}（考生 {cid}）在整段录像中始终无人就座。",
                f"Seat {num} (candidate {cid}) was never occupied in the footage.",
                {"key": num, "seat": num, "never_seen": True, "empty_s": round(tl.end_s() - float(tl.t_s[0]), 1)},
                seats, [j], cid))
            continue
        first_s, last_s = float(tl.t_s[seen[0]]), float(tl.t_s[seen[-1]]) + dt
        if first_s - start_ref >= th.late_left_min_s:
            late = first_s - start_ref
            i1 = int(seen[0])
            drafts.append(_draft(
                FindingKind.candidate_left, Severity.medium, tl, 0, i1, start_ref, first_s, 0.8,
                f"座位 {num}（考生 {cid}）迟到：{late:.0f} 秒后才有人就座。",
                f"Seat {num} (candidate {cid}) was first occupied {late:.0f} s late.",
                {"key": f"{num}-late", "seat": num, "mode": "arrived_late", "late_s": round(late, 1)},
                seats, [j], cid, show=max(0, i1 - 1)))
        if end_ref - last_s >= th.late_left_min_s:
            early = end_ref - last_s
            i0 = int(seen[-1]) + 1
            drafts.append(_draft(
                FindingKind.candidate_left, Severity.medium, tl, i0, len(tl.t_s), last_s, end_ref, 0.8,
                f"座位 {num}（考生 {cid}）提前离场：比其他考生早 {early:.0f} 秒离开座位。",
                f"Seat {num} (candidate {cid}) was left {early:.0f} s before the end.",
                {"key": f"{num}-left", "seat": num, "mode": "left_early", "early_s": round(early, 1)},
                seats, [j], cid, show=min(i0, len(tl.t_s) - 1)))
        inner = ~tl.occupied[seen[0]:seen[-1] + 1, j]
        for i0, i1 in sustained(inner, tl.t_s[seen[0]:seen[-1] + 1], tl.valid[seen[0]:seen[-1] + 1], th.absent_min_s, 0):
            a, b = i0 + int(seen[0]), i1 + int(seen[0])
            away = float(tl.t_s[b - 1] - tl.t_s[a] + dt)
            drafts.append(_draft(
                FindingKind.absent_candidate, Severity.high, tl, a, b, float(tl.t_s[a]), float(tl.t_s[b - 1]) + dt, 0.8,
                f"座位 {num}（考生 {cid}）考试中途离座 {away / 60:.1f} 分钟。",
                f"Seat {num} (candidate {cid}) stood empty for {away / 60:.1f} minutes mid-session.",
                {"key": f"{num}-{a}", "seat": num, "mode": "away", "empty_s": round(away, 1)},
                seats, [j], cid))
    return drafts


def extra_person_drafts(tl: PeopleTimeline, seats: SeatMap, th: PeopleThresholds, allowed: int) -> list[Draft]:
    """``extra_person``: more people than seated candidates plus allowed invigilators, sustained."""
    drafts = []
    for i0, i1 in sustained(tl.excess > 0, tl.t_s, tl.valid, th.extra_min_s, 2 * tl.dt):
        sel = [i for i in range(i0, i1) if tl.valid[i]]
        most = int(tl.excess[sel].max())
        length = float(tl.t_s[i1 - 1] - tl.t_s[i0] + tl.dt)
        show = max(sel, key=lambda i: (tl.excess[i], -abs(i - (i0 + i1) / 2)))
        drafts.append(_draft(
            FindingKind.extra_person, Severity.high if length >= 60 else Severity.medium, tl, i0, i1,
            float(tl.t_s[i0]), float(tl.t_s[i1 - 1]) + tl.dt, 0.6 + 0.3 * float(np.mean(tl.excess[sel] > 0)),
            f"考场内有 {most} 名多余人员（超出就座考生和 {allowed} 名监考），持续 {length:.0f} 秒。",
            f"{most} more person(s) than seated candidates plus {allowed} invigilator(s) were in the room for {length:.0f} s.",
            {"key": str(i0), "max_extra": most, "duration_s": round(length, 1), "invigilators_allowed": allowed},
            seats, [], show=show))
    return drafts


def lingering_drafts(tl: PeopleTimeline, seats: SeatMap, th: PeopleThresholds) -> list[Draft]:
    """``person_lingering``: someone on their feet beside an occupied seat for long.

    A person standing between two desks may be nearer one or the other from sample to
    sample; of overlapping stretches at different seats only the best-supported one is kept.
    """
    spans = []
    for j in range(len(seats)):
        for i0, i1 in sustained(tl.beside[:, j], tl.t_s, tl.valid, th.lingering_min_s, 2 * tl.dt):
            spans.append((int((tl.beside[i0:i1, j] & tl.valid[i0:i1]).sum()), j, i0, i1))
    kept: list[tuple[int, int, int]] = []
    for _, j, i0, i1 in sorted(spans, reverse=True):
        if all(i1 <= a or b <= i0 for _, a, b in kept):
            kept.append((j, i0, i1))
    drafts = []
    for j, i0, i1 in sorted(kept, key=lambda k: (k[1], k[0])):
        length = float(tl.t_s[i1 - 1] - tl.t_s[i0] + tl.dt)
        num, cid = seats.numbers[j], seats.candidate_ids[j]
        who = f"（考生 {cid}）" if cid else ""
        drafts.append(_draft(
            FindingKind.person_lingering, Severity.high if length >= 60 else Severity.medium, tl, i0, i1,
            float(tl.t_s[i0]), float(tl.t_s[i1 - 1]) + tl.dt, 0.75,
            f"有人站在座位 {num}{who}旁逗留 {length:.0f} 秒，可能在协助或代考。",
            f"Someone stood beside seat {num}{f' (candidate {cid})' if cid else ''} for {length:.0f} s, "
            "possibly helping or sitting in for the candidate.",
            {"key": f"{num}-{i0}", "seat": num, "duration_s": round(length, 1)},
            seats, [j], cid))
    return drafts


def invigilator_drafts(tl: PeopleTimeline, seats: SeatMap, th: PeopleThresholds, zone: Sequence[Sequence[float]] | None,
                       allowed: int) -> list[Draft]:
    """``invigilator_absent``: nobody in the invigilator zone for long (only when the config names a zone)."""
    if zone is None or allowed <= 0:
        return []
    drafts = []
    for i0, i1 in sustained(~tl.zone_present, tl.t_s, tl.valid, th.invigilator_absent_min_s, 0):
        length = float(tl.t_s[i1 - 1] - tl.t_s[i0] + tl.dt)
        d = _draft(
            FindingKind.invigilator_absent, Severity.medium, tl, i0, i1, float(tl.t_s[i0]), float(tl.t_s[i1 - 1]) + tl.dt, 0.7,
            f"监考区域内 {length / 60:.1f} 分钟无人。", f"Nobody was in the invigilator zone for {length / 60:.1f} minutes.",
            {"key": str(i0), "duration_s": round(length, 1)}, seats, [])
        d.overlay["polygons"].append([list(map(float, p)) for p in zone])
        d.overlay["polygon_labels"].append("监考区 / invigilator zone")
        drafts.append(d)
    return drafts


def headcount_mismatch_drafts(
    expected: Mapping[str, int],
    rows: Sequence[Mapping[str, Any]],
    spans: Mapping[str, tuple[float, float]],
    *,
    tolerance: int = 0,
    quantile: float = 0.9,
) -> list[Draft]:
    """``headcount_mismatch``: the records say how many sat a session; the footage disagrees.

    For the audit step, which knows the records. ``expected`` maps a session id to the number
    of candidates the records say sat it; ``spans`` maps the same id to its ``(start_s, end_s)``
    in this footage. The seen count of a session is the ``quantile`` of the ``seated`` column
    over its trusted samples (a high quantile, so a few people out of their seats at any one
    moment do not count against the records). A finding is raised when the two differ by more
    than ``tolerance``.

    Example:
        >>> rows = [{"t_s": float(t), "seated": 20, "trusted": True} for t in range(0, 600, 5)]
        >>> [d.details["seen"] for d in headcount_mismatch_drafts({"S1": 28}, rows, {"S1": (0, 600)})]
        [20]
    """
    drafts = []
    for sid, want in expected.items():
        if sid not in spans:
            continue
        a, b = spans[sid]
        inside = [r for r in rows if a <= float(r["t_s"]) < b and r.get("seated") not in (None, "")]
        good = [r for r in inside if r.get("trusted", True) is not False]
        if not good:
            continue
        seen = int(round(float(np.quantile([float(r["seated"]) for r in good], quantile))))
        if abs(seen - int(want)) <= tolerance:
            continue
        n_bad = len(inside) - len(good)
        zh_note, en_note = _untrusted_note(n_bad)
        peak = max(good, key=lambda r: float(r["seated"]))
        drafts.append(Draft(
            FindingKind.headcount_mismatch, Severity.high if seen < want else Severity.medium, float(a), float(b),
            0.8, f"场次 {sid} 记录有 {want} 人参考，录像中最多约 {seen} 人就座。" + zh_note,
            f"Session {sid}: the records say {want} sat it; the footage shows about {seen} seated." + en_note,
            {"key": sid, "session": sid, "expected": int(want), "seen": seen, "quantile": quantile,
             "untrusted_samples_excluded": n_bad},
            frames=[(float(peak["t_s"]), "就座人数 / seated count")],
        ))
    return drafts


def schedule_span(wall0: datetime | None, sessions: Sequence[Any]) -> tuple[float, float] | None:
    """The session covering the footage, as seconds into it (``None`` without wall-clock time)."""
    if wall0 is None or not sessions:
        return None
    best = None
    for s in sessions:
        st = s.start if s.start.tzinfo else s.start.replace(tzinfo=wall0.tzinfo)
        en = s.end if s.end.tzinfo else s.end.replace(tzinfo=wall0.tzinfo)
        a, b = (st - wall0).total_seconds(), (en - wall0).total_seconds()
        if best is None or abs(a) < abs(best[0]):
            best = (a, b)
    return best
