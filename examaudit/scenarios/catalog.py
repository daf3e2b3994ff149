"""The scenario catalogue: a normal session and one planted irregularity per scenario.

Every scenario is a :class:`ScenarioSpec` built by a pure function of ``(seed, size, fps,
duration)``. The seed drives every choice (which seat is empty, when the clock jumps, how
people look), so seeds nobody tuned on give different layouts and times. The same spec is
used to render the clip and to write its truth file, so the two cannot disagree.

Example:
    >>> spec = build_scenario("absent_candidate", seed=3, width=320, height=180, duration_s=6)
    >>> spec.events[0]["kind"], spec.events[0]["start_s"]
    ('absent_candidate', 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np

from ..findings import FindingKind
from .osd import DATE_SEPARATORS, ClockStyle
from .people import PersonLook, random_look, standing_sprite
from .room import RoomLayout, SeatedPose, StandingPose, layout_room
from .tamper import Tamper

CST = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True)
class Occupant:
    """A candidate at a desk for some spans of room time, swaying a little while seated."""

    seat_index: int
    look: PersonLook
    present: tuple[tuple[float, float], ...]
    sway_px: float = 1.0
    sway_period_s: float = 6.0
    sway_phase: float = 0.0

    def seated_at(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.present)


@dataclass(frozen=True)
class Walker:
    """Someone on their feet: an invigilator, a visitor, a candidate walking in or out.

    ``path`` is ``((t, x, floor_y), ...)``; the person is in the room from the first to the
    last time and moves in straight lines between points.
    """

    look: PersonLook
    role: str
    path: tuple[tuple[float, float, float], ...]

    def where(self, t: float) -> tuple[float, float, bool] | None:
        p = self.path
        if t < p[0][0] or t >= p[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(p, p[1:]):
            if t0 <= t < t1:
                a = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
                return x0 + a * (x1 - x0), y0 + a * (y1 - y0), (x0, y0) != (x1, y1)
        return None


@dataclass(frozen=True)
class Scene:
    """A room and the people in it over time."""

    layout: RoomLayout
    occupants: tuple[Occupant, ...]
    walkers: tuple[Walker, ...]
    layout_seed: int


def people_at(scene: Scene, t: float) -> tuple[list[SeatedPose], list[StandingPose]]:
    """Who is where at room time ``t``: the single source for both pixels and truth."""
    seated = []
    for o in scene.occupants:
        if o.seated_at(t):
            w = 2 * math.pi * t / o.sway_period_s + o.sway_phase
            seated.append(SeatedPose(o.seat_index, o.look, int(round(o.sway_px * math.sin(w))),
                                     int(round(0.5 * o.sway_px * math.sin(1.7 * w + 1.0)))))
    standing = []
    for wk in scene.walkers:
        pos = scene_walker_pose(wk, t)
        if pos is not None:
            standing.append(pos)
    return seated, standing


def scene_walker_pose(wk: Walker, t: float) -> StandingPose | None:
    at = wk.where(t)
    if at is None:
        return None
    x, y, moving = at
    # Two steps a second; the legs swing through -2..2 only while walking.
    stride = int(round(2 * math.sin(2 * math.pi * 1.0 * t))) if moving else 0
    return StandingPose(wk.look, x, y, stride)


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything needed to render one clip and write its truth.

    Attributes:
        name: scenario name (see :data:`SCENARIOS`).
        primary_kind: the finding kind the scenario plants, or ``None`` for controls.
        events: ``[{"kind", "start_s", "end_s", "seat", "details"}]`` in recording seconds.
        candidate_ids: seat number -> rostered candidate id (``None``: seat not in use).
        alt_scene: the other footage a splice cuts to.
    """

    name: str
    seed: int
    width: int
    height: int
    fps: float
    gop_s: float
    duration_s: float
    wall_start: datetime
    clock: ClockStyle
    camera_id: str
    room_name: str
    scene: Scene
    tampers: tuple[Tamper, ...] = ()
    events: tuple[dict, ...] = ()
    candidate_ids: dict = field(default_factory=dict, hash=False, compare=False)
    invigilators_allowed: int = 1
    primary_kind: str | None = None
    alt_scene: Scene | None = None
    notes: str = ""

    @property
    def layout(self) -> RoomLayout:
        return self.scene.layout

    def camera_entry(self, footage: list[str] | None = None) -> dict:
        """The camera as :class:`examaudit.config.Camera` expects it, in this clip's pixels."""
        seats = [{"seat": s.seat, "polygon": [list(p) for p in s.polygon],
                  "candidate_id": self.candidate_ids.get(s.seat)} for s in self.layout.seats]
        entry = {"id": self.camera_id, "invigilators_allowed": self.invigilators_allowed,
                 "invigilator_zone": [list(p) for p in self.layout.invigilator_zone], "seats": seats}
        if footage is not None:
            entry = {"id": self.camera_id, "footage": footage, **{k: v for k, v in entry.items() if k != "id"}}
        return entry


# ----------------------------------------------------------------------------- building blocks

def default_grid(width: int, height: int) -> tuple[int, int]:
    """Desk rows x columns one camera covers. Up to 720p a camera covers two rows of four:
    the 300x300 SSD detector finds ~85% of people that size and far fewer once a third row
    shrinks them (measured: 3x5 at 720p 59%). 1080p is the 30-seat benchmark room."""
    if height >= 1000:
        return 5, 6
    return 2, 4


def _walk_speed(layout: RoomLayout, y: float) -> float:
    # About 1 m/s: a person covers roughly 0.6 of their own height per second.
    return 0.6 * layout.standing_height(y)


def _route(layout: RoomLayout, t0: float, points: list[tuple[float, float]], *, max_s: float | None = None,
           reverse_end: float | None = None) -> tuple[tuple[float, float, float], ...]:
    """Timed path through ``points`` starting at ``t0`` at walking speed (compressed to ``max_s``)."""
    legs = [math.dist(a, b) / _walk_speed(layout, (a[1] + b[1]) / 2) for a, b in zip(points, points[1:])]
    total = sum(legs) or 1.0
    k = min(1.0, max_s / total) if max_s else 1.0
    out, t = [(t0, *points[0])], t0
    for leg, p in zip(legs, points[1:]):
        t += leg * k
        out.append((t, *p))
    return tuple(out)


def _door(layout: RoomLayout) -> tuple[float, float]:
    # People come in from the left, out of shot, along the front aisle.
    return -0.12 * layout.width, layout.front_y


def _to_seat(layout: RoomLayout, seat_index: int) -> list[tuple[float, float]]:
    s = layout.seats[seat_index]
    aisle_y = s.desk_bottom + 0.03 * layout.height
    return [_door(layout), (layout.aisle_x, layout.front_y), (layout.aisle_x, aisle_y), (s.cx - s.desk_half_w * 1.1, aisle_y)]


def _invigilator(layout: RoomLayout, look: PersonLook, duration: float, rng: np.random.Generator) -> Walker:
    """An invigilator who stands in the zone and now and then steps between two spots."""
    a, b = layout.invigilator_spots[0], layout.invigilator_spots[1]
    path = [(0.0, *a)]
    t, here = 0.0, a
    while t < duration:
        t += float(rng.uniform(0.25, 0.45)) * max(duration, 8.0)
        there = b if here == a else a
        path.append((min(t, duration + 1), *here))
        step = math.dist(here, there) / _walk_speed(layout, (here[1] + there[1]) / 2)
        t += step
        path.append((min(t, duration + 1), *there))
        here = there
    path.append((duration + 1.0, *here))
    # Drop zero-length legs made by clipping at the end.
    clean = [path[0]]
    for p in path[1:]:
        if p[0] > clean[-1][0]:
            clean.append(p)
    return Walker(look, "invigilator", tuple(clean))


def base_scene(seed: int, width: int, height: int, duration: float, *, rows: int | None = None,
               cols: int | None = None, invigilators: int = 1) -> Scene:
    """A normal session: every seat taken all session, invigilators in their zone."""
    rng = np.random.default_rng([seed, 7])
    if rows is None or cols is None:
        rows, cols = default_grid(width, height)
    layout = layout_room(width, height, rows, cols, rng)
    occupants = []
    for i, s in enumerate(layout.seats):
        occupants.append(Occupant(i, random_look(rng, seated=True), ((0.0, duration + 1.0),),
                                  sway_px=max(1.0, 0.025 * s.person_h), sway_period_s=float(rng.uniform(4, 9)),
                                  sway_phase=float(rng.uniform(0, 2 * math.pi))))
    walkers = tuple(_invigilator(layout, random_look(rng), duration, rng) for _ in range(invigilators))
    return Scene(layout, tuple(occupants), walkers, layout_seed=seed)


def _span(rng: np.random.Generator, duration: float, lo=0.2, hi=0.45, length=(0.2, 0.35)) -> tuple[float, float]:
    """A start and end, rounded to 0.1 s, inside the clip, as fractions of its length."""
    a = float(rng.uniform(lo, hi)) * duration
    b = a + float(rng.uniform(*length)) * duration
    return round(a, 1), round(min(b, duration * 0.95), 1)


def _event(kind: FindingKind, start: float, end: float, seat: str | None = None, **details) -> dict:
    return {"kind": kind.value, "start_s": round(start, 2), "end_s": round(end, 2), "seat": seat, "details": details}


def _visible_span(walker: Walker, spec: "ScenarioSpec") -> tuple[float, float]:
    """First and last moment (0.1 s grid) the walker's body centre is inside the picture."""
    ts = np.arange(walker.path[0][0], walker.path[-1][0], 0.1)
    seen = [t for t in ts if (at := walker.where(float(t))) is not None and 0 <= at[0] < spec.width]
    if not seen:
        return 0.0, 0.0
    return round(max(0.0, float(seen[0])), 1), round(min(spec.duration_s, float(seen[-1]) + 0.1), 1)


def _occupied_seat(rng: np.random.Generator, scene: Scene) -> int:
    """A seat whose candidate is there all session (so combined scenarios do not collide)."""
    full = [o.seat_index for o in scene.occupants if o.present == ((0.0, o.present[-1][1]),)]
    return int(full[int(rng.integers(0, len(full)))]) if full else int(rng.integers(0, len(scene.layout.seats)))


# ----------------------------------------------------------------------------- scenarios

Builder = Callable[[ScenarioSpec, np.random.Generator], ScenarioSpec]
SCENARIOS: dict[str, Builder] = {}


def scenario(name: str):
    def register(fn: Builder) -> Builder:
        SCENARIOS[name] = fn
        return fn
    return register


@scenario("normal")
def _normal(spec, rng):
    return spec


@scenario("absent_candidate")
def _absent(spec, rng):
    D = spec.duration_s
    n = len(spec.layout.seats)
    k = 1 if n < 8 or rng.random() < 0.5 else 2
    gone = sorted(int(i) for i in rng.choice(n, size=k, replace=False))
    occ = tuple(o for o in spec.scene.occupants if o.seat_index not in gone)
    events = tuple(_event(FindingKind.absent_candidate, 0.0, D, spec.layout.seats[i].seat,
                          candidate_id=spec.candidate_ids.get(spec.layout.seats[i].seat)) for i in gone)
    return replace(spec, scene=replace(spec.scene, occupants=occ), events=spec.events + events)


@scenario("candidate_left")
def _left(spec, rng):
    D = spec.duration_s
    i = _occupied_seat(rng, spec.scene)
    seat = spec.layout.seats[i]
    mode = "left_early" if rng.random() < 0.5 else "arrived_late"
    walk_max = 0.12 * D
    route = _to_seat(spec.layout, i)
    occ = list(spec.scene.occupants)
    if mode == "left_early":
        a = round(float(rng.uniform(0.3, 0.6)) * D, 1)
        path = _route(spec.layout, a, route[::-1], max_s=walk_max)
        occ[i] = replace(occ[i], present=((0.0, a),))
        ev = _event(FindingKind.candidate_left, a, D, seat.seat, mode=mode,
                    candidate_id=spec.candidate_ids.get(seat.seat))
    else:
        a = round(float(rng.uniform(0.25, 0.5)) * D, 1)
        path = _route(spec.layout, 0.0, route, max_s=walk_max)
        shift = a - path[-1][0]
        path = tuple((t + shift, x, y) for t, x, y in path)
        occ[i] = replace(occ[i], present=((a, D + 1.0),))
        ev = _event(FindingKind.candidate_left, 0.0, a, seat.seat, mode=mode,
                    candidate_id=spec.candidate_ids.get(seat.seat))
    walker = Walker(occ[i].look, "candidate", path)
    scene = replace(spec.scene, occupants=tuple(occ), walkers=spec.scene.walkers + (walker,))
    return replace(spec, scene=scene, events=spec.events + (ev,))


def _visitor_path(spec, rng, spot: tuple[float, float], a: float, b: float) -> tuple:
    """Walk from the door to ``spot``, arriving at ``a``; stand until ``b``; walk back out."""
    L = spec.layout
    points = [_door(L), (L.aisle_x, L.front_y), (L.aisle_x, spot[1]), spot]
    walk_max = 0.1 * spec.duration_s
    inward = _route(L, 0.0, points, max_s=walk_max)
    shift = a - inward[-1][0]
    inward = tuple((t + shift, x, y) for t, x, y in inward)
    outward = _route(L, b, points[::-1], max_s=walk_max)
    return inward + outward


def _body(L: RoomLayout, look: PersonLook, x: float, y: float) -> np.ndarray:
    """The picture box of ``look`` standing still with feet at (x, y), from its own sprite."""
    h = L.standing_height(y)
    w = standing_sprite(look, h).size[0]
    return np.array([x - w / 2, y - h, x + w / 2, y])


def _overlap(box: np.ndarray, others: np.ndarray, margin: float) -> float:
    """Area of ``box`` (grown by ``margin``) that ``others`` cover, summed."""
    if len(others) == 0:
        return 0.0
    ix = np.clip(np.minimum(box[2] + margin, others[:, 2]) - np.maximum(box[0] - margin, others[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3] + margin, others[:, 3]) - np.maximum(box[1] - margin, others[:, 1]), 0, None)
    return float((ix * iy).sum())


def _in_the_way(spec: ScenarioSpec) -> np.ndarray:
    """Boxes a planted standing person must keep clear of: every desk with its candidate and
    every invigilator at each of their spots."""
    L = spec.layout
    boxes = [L.seat_boxes()]
    for wk in spec.scene.walkers:
        if wk.role == "invigilator":
            boxes.append(np.array([_body(L, wk.look, x, y) for x, y in L.invigilator_spots]))
    return np.concatenate(boxes).reshape(-1, 4)


def _fits(L: RoomLayout, body: np.ndarray) -> bool:
    # Head to feet inside the picture: a person cut off at the head is not one an auditor can count.
    return body[0] >= 0 and body[1] >= 0 and body[2] <= L.width and body[3] <= L.height - 1


def _visitor_spot(spec: ScenarioSpec, look: PersonLook, rng: np.random.Generator) -> tuple[float, float]:
    """A floor point outside the invigilator zone where ``look`` stands whole in the picture and
    clear of every desk and invigilator spot (random among those; the least covered one if none is)."""
    L = spec.layout
    zone_x1 = max(x for x, _ in L.invigilator_zone)
    margin = 0.005 * L.width
    way = _in_the_way(spec)
    best, free = None, []
    for y in np.linspace(L.wall_y, L.height - 1, 56):
        for x in np.linspace(zone_x1 + 0.02 * L.height + margin, L.width, 96):
            body = _body(L, look, float(x), float(y))
            if not _fits(L, body):
                continue
            cost = _overlap(body, way, margin)
            if cost == 0:
                free.append((float(x), float(y)))
            elif best is None or cost < best[0]:
                best = (cost, (float(x), float(y)))
    if free:
        return free[int(rng.integers(0, len(free)))]
    if best is None:
        raise ValueError(f"no floor in a {L.width}x{L.height} room where a visitor is whole in the picture")
    return best[1]


@scenario("extra_person")
def _extra(spec, rng):
    a, b = _span(rng, spec.duration_s, 0.2, 0.4, (0.25, 0.4))
    # A "helper" watching the room from the side aisle: on their own, so an auditor would count
    # them as one more person (not standing into a desk or against the invigilator).
    look = random_look(rng)
    spot = _visitor_spot(spec, look, rng)
    path = _visitor_path(spec, rng, spot, a, b)
    walker = Walker(look, "extra", path)
    # The span runs from the moment they step into the picture until they are gone again.
    ev = _event(FindingKind.extra_person, *_visible_span(walker, spec), standing_from_s=a, standing_to_s=b)
    return replace(spec, scene=replace(spec.scene, walkers=spec.scene.walkers + (walker,)), events=spec.events + (ev,))


def _lingering_places(spec: ScenarioSpec, look: PersonLook) -> list[tuple[int, int]]:
    """(seat index, side) pairs where someone lingering beside a present candidate is whole in the
    picture and clear of the invigilators (a back-row desk in a shallow picture puts their head out
    of frame and their legs behind the front row)."""
    L = spec.layout
    full = [o.seat_index for o in spec.scene.occupants if o.present == ((0.0, o.present[-1][1]),)]
    inv = _in_the_way(spec)[len(L.seats):]
    out = []
    for i in full:
        seat = L.seats[i]
        for side in (-1, 1):
            if (side < 0 and seat.col == L.cols - 1 and L.cols > 1) or (side > 0 and seat.col == 0):
                continue
            body = _body(L, look, *L.beside(seat, side))
            if _fits(L, body) and _overlap(body, inv, 0.005 * L.width) == 0:
                out.append((i, side))
    return out


@scenario("person_lingering")
def _lingering(spec, rng):
    L = spec.layout
    look = random_look(rng)
    places = _lingering_places(spec, look)
    if places:
        i, side = places[int(rng.integers(0, len(places)))]
    else:
        i = _occupied_seat(rng, spec.scene)
        side = -1 if L.seats[i].col == 0 or (L.seats[i].col < L.cols - 1 and rng.random() < 0.5) else 1
    seat = L.seats[i]
    spot = L.beside(seat, side)
    a, b = _span(rng, spec.duration_s, 0.2, 0.4, (0.25, 0.4))
    path = _visitor_path(spec, rng, spot, a, b)
    walker = Walker(look, "lingerer", path)
    events = (
        _event(FindingKind.person_lingering, a, b, seat.seat, side="left" if side < 0 else "right",
               candidate_id=spec.candidate_ids.get(seat.seat)),
        _event(FindingKind.extra_person, *_visible_span(walker, spec), implied_by="person_lingering"),
    )
    return replace(spec, scene=replace(spec.scene, walkers=spec.scene.walkers + (walker,)), events=spec.events + events)


def _picture_tamper(kind: FindingKind, length=(0.2, 0.35), to_end=False, **make_params):
    def build(spec, rng):
        a, b = _span(rng, spec.duration_s, 0.2, 0.45, length)
        if to_end:
            b = spec.duration_s
        params = {k: (f(rng, spec) if callable(f) else f) for k, f in make_params.items()}
        t = Tamper(kind.value, a, b if not to_end else spec.duration_s + 1.0, params)
        return replace(spec, tampers=spec.tampers + (t,), events=spec.events + (_event(kind, a, b, **params),))
    return build


SCENARIOS["camera_covered"] = _picture_tamper(FindingKind.camera_covered)
SCENARIOS["camera_defocused"] = _picture_tamper(
    FindingKind.camera_defocused, factor=lambda rng, s: round(float(rng.uniform(7, 12)), 1))
SCENARIOS["camera_moved"] = _picture_tamper(
    FindingKind.camera_moved, to_end=True,
    dx_px=lambda rng, s: round(float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.10) * s.width), 1),
    dy_px=lambda rng, s: round(float(rng.uniform(-0.05, 0.05) * s.height), 1),
    rotate_deg=lambda rng, s: round(float(rng.choice([-1, 1]) * rng.uniform(1.5, 5.0)), 2))
SCENARIOS["video_black"] = _picture_tamper(FindingKind.video_black, length=(0.15, 0.3))
SCENARIOS["video_overexposed"] = _picture_tamper(
    FindingKind.video_overexposed, gain=lambda rng, s: round(float(rng.uniform(2.5, 3.5)), 2),
    lift=lambda rng, s: int(rng.integers(100, 140)))


@scenario("frozen_video")
def _frozen(spec, rng):
    a, b = _span(rng, spec.duration_s, 0.2, 0.45, (0.25, 0.4))
    t = Tamper("frozen_video", a, b)
    return replace(spec, tampers=spec.tampers + (t,), events=spec.events + (_event(FindingKind.frozen_video, a, b, osd_clock="running"),))


@scenario("timestamp_frozen")
def _ts_frozen(spec, rng):
    a, b = _span(rng, spec.duration_s, 0.2, 0.45, (0.25, 0.4))
    t = Tamper("timestamp_frozen", a, b)
    events = (_event(FindingKind.timestamp_frozen, a, b, picture="frozen"),
              _event(FindingKind.frozen_video, a, b, osd_clock="frozen", implied_by="timestamp_frozen"))
    return replace(spec, tampers=spec.tampers + (t,), events=spec.events + events)


@scenario("looped_segment")
def _looped(spec, rng):
    D = spec.duration_s
    length = round(float(rng.uniform(0.15, 0.25)) * D, 1)
    src = round(float(rng.uniform(0.05, 0.25)) * D, 1)
    at = round(float(rng.uniform(src + length + 0.05 * D, 0.95 * D - length)), 1)
    # A replay repeats whole recorded frames: a shift of 0.1 s is half a frame at 5 fps (and at
    # 25 fps), and rendering between frames would make a stuttering re-render, not a replay.
    src = round(at - round((at - src) * spec.fps) / spec.fps, 4)
    t = Tamper("looped_segment", at, at + length, {"source_start_s": src})
    # Picked: the OSD clock keeps running through the replay (the recorder stamps the clock
    # after the camera feed was swapped), so only the picture gives the loop away.
    ev = _event(FindingKind.looped_segment, at, at + length, source_start_s=src, source_end_s=round(src + length, 2),
                osd_clock="continues")
    return replace(spec, tampers=spec.tampers + (t,), events=spec.events + (ev,))


@scenario("timestamp_jump")
def _jump(spec, rng):
    a = round(float(rng.uniform(0.3, 0.7)) * spec.duration_s, 1)
    jump = int(rng.integers(3, 21)) * 60 + int(rng.integers(0, 60))
    t = Tamper("timestamp_jump", a, spec.duration_s + 1.0, {"jump_s": jump})
    return replace(spec, tampers=spec.tampers + (t,), events=spec.events + (_event(FindingKind.timestamp_jump, a, a, jump_s=jump),))


@scenario("timestamp_backwards")
def _backwards(spec, rng):
    a = round(float(rng.uniform(0.3, 0.7)) * spec.duration_s, 1)
    back = int(rng.integers(30, 301))
    t = Tamper("timestamp_backwards", a, spec.duration_s + 1.0, {"back_s": back})
    return replace(spec, tampers=spec.tampers + (t,), events=spec.events + (_event(FindingKind.timestamp_backwards, a, a, back_s=back),))


@scenario("footage_gap")
def _gap(spec, rng):
    D = spec.duration_s
    a = round(float(rng.uniform(0.25, 0.5)) * D, 1)
    g = round(max(1.0, float(rng.uniform(0.1, 0.25)) * D), 1)
    t = Tamper("footage_gap", a, a + g)
    return replace(spec, tampers=spec.tampers + (t,), events=spec.events + (_event(FindingKind.footage_gap, a, a + g, missing_s=g),))


@scenario("still_empty_room")
def _empty(spec, rng):
    # Nobody in the room and nothing moving, only sensor noise: a control that must not
    # be called frozen. No seat is rostered and no invigilator is due.
    scene = replace(spec.scene, occupants=(), walkers=())
    return replace(spec, scene=scene, candidate_ids={s.seat: None for s in spec.layout.seats},
                   invigilators_allowed=0)


@scenario("splice")
def _splice(spec, rng):
    a = round(float(rng.uniform(0.3, 0.7)) * spec.duration_s, 1)
    L = spec.layout
    other = base_scene(spec.seed + 7919, spec.width, spec.height, spec.duration_s, rows=L.rows, cols=L.cols)
    # The other footage: fewer people, as if cut in from an emptier sitting.
    keep = rng.random(len(other.occupants)) < 0.6
    other = replace(other, occupants=tuple(o for o, k in zip(other.occupants, keep) if k))
    t = Tamper("splice", a, spec.duration_s + 1.0)
    ev = _event(FindingKind.splice, a, a, to="footage of a different sitting")
    return replace(spec, tampers=spec.tampers + (t,), alt_scene=other, events=spec.events + (ev,))


PRIMARY = {name: (None if name in ("normal", "still_empty_room") else name) for name in SCENARIOS}


def build_scenario(name: str, seed: int, *, width: int = 640, height: int = 360, fps: float = 10,
                   gop_s: float = 2.0, duration_s: float = 60, rows: int | None = None, cols: int | None = None,
                   camera_id: str = "C1", room_name: str = "第一考场", candidate_prefix: str = "EP-SYN-S1",
                   wall_start: datetime | None = None, invigilators: int = 1) -> ScenarioSpec:
    """The spec for scenario ``name`` (or ``"a+b"`` to plant several) with seed ``seed``.

    Raises:
        KeyError: an unknown scenario name.
    """
    parts = name.split("+")
    unknown = [p for p in parts if p not in SCENARIOS]
    if unknown:
        raise KeyError(f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    rng = np.random.default_rng([seed, sum(name.encode())])
    scene = base_scene(seed, width, height, duration_s, rows=rows, cols=cols, invigilators=invigilators)
    if wall_start is None:
        day = datetime(2024, 6, 17, tzinfo=CST) + timedelta(days=int(rng.integers(0, 10)))
        wall_start = day.replace(hour=int(rng.choice([9, 14])), minute=int(rng.integers(0, 4)) * 15,
                                 second=int(rng.integers(0, 60)))
    clock = ClockStyle(date_sep=str(rng.choice(DATE_SEPARATORS)), weekday=bool(rng.random() < 0.7),
                       hour12=bool(rng.random() < 0.25))
    ids = {s.seat: f"{candidate_prefix}-{int(s.seat):03d}" for s in scene.layout.seats}
    spec = ScenarioSpec(name=name, seed=seed, width=width, height=height, fps=fps, gop_s=gop_s,
                        duration_s=float(duration_s), wall_start=wall_start, clock=clock, camera_id=camera_id,
                        room_name=room_name, scene=scene, candidate_ids=ids, invigilators_allowed=invigilators,
                        primary_kind=PRIMARY.get(parts[0]))
    # "a+b" plants both: each builder adds its tampers and events to what is there.
    for part in parts:
        spec = SCENARIOS[part](spec, rng)
    return replace(spec, name=name)
