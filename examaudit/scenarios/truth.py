"""Ground truth for a synthetic clip: what was planted, and who is visible each second.

Written next to the clip as ``<clip>.truth.json``. ``per_second`` describes the *picture*
at the first frame of each second (``persons`` visible, ``seated`` at desks, which seats
are occupied), and ``trusted`` says whether that picture shows the room as it really was
then (false while covered, black, frozen, looped, moved, spliced, in a gap, ...).
``in_room`` is how many people were really in the room, whatever the picture shows.

Example:
    >>> from examaudit.scenarios.catalog import build_scenario
    >>> truth = truth_for(build_scenario("footage_gap", seed=1, width=320, height=180, duration_s=6), "g.mp4")
    >>> [s.trusted for s in truth.per_second][:2]
    [True, True]
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from .catalog import ScenarioSpec, people_at
from .tamper import BLIND_KINDS, in_gap, picture_source, picture_tampers, spliced

UNTRUSTED_TIMELINE = ("frozen_video", "timestamp_frozen", "looped_segment")


@dataclass(frozen=True)
class TruthEvent:
    kind: str
    start_s: float
    end_s: float
    seat: str | None = None
    details: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class SecondTruth:
    t_s: int
    persons: int
    seated: int
    seats: dict
    trusted: bool
    in_room: int = 0
    video: bool = True


@dataclass(frozen=True)
class Truth:
    """The content of a ``.truth.json`` file."""

    clip: str
    scenario: str
    seed: int
    width: int
    height: int
    fps: float
    gop_s: float
    duration_s: float
    wall_start: datetime
    camera: dict
    events: list[TruthEvent]
    per_second: list[SecondTruth]
    primary_kind: str | None = None
    clock_style: dict = field(default_factory=dict)
    room_name: str = ""
    notes: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["wall_start"] = self.wall_start.isoformat()
        return d

    def events_of(self, kind: str) -> list[TruthEvent]:
        return [e for e in self.events if e.kind == kind]


def _visible_standing(spec: ScenarioSpec, standing) -> int:
    # Someone counts as visible once the middle of their body is inside the picture.
    return sum(1 for p in standing if 0 <= p.x < spec.width)


def truth_for(spec: ScenarioSpec, clip_name: str) -> Truth:
    """The truth of ``spec``, computed from the same functions that draw its frames."""
    rows = []
    seat_names = [s.seat for s in spec.layout.seats]
    for s in range(int(math.ceil(spec.duration_s))):
        t = float(s)
        seated_now, standing_now = people_at(spec.scene, t)
        in_room = len(seated_now) + _visible_standing(spec, standing_now)
        if in_gap(spec.tampers, t):
            rows.append(SecondTruth(s, 0, 0, {n: False for n in seat_names}, False, in_room, video=False))
            continue
        src = picture_source(spec.tampers, t)
        is_spliced = spliced(spec.tampers, src)
        scene = spec.alt_scene if is_spliced and spec.alt_scene is not None else spec.scene
        seated, standing = people_at(scene, src)
        pics = picture_tampers(spec.tampers, src)
        blind = any(p.kind in BLIND_KINDS for p in pics)
        occupied = {n: False for n in seat_names}
        if not blind:
            for p in seated:
                occupied[scene.layout.seats[p.seat_index].seat] = True
        persons = 0 if blind else len(seated) + _visible_standing(spec, standing)
        trusted = not (pics or is_spliced or any(x.kind in UNTRUSTED_TIMELINE and x.active(t) for x in spec.tampers))
        rows.append(SecondTruth(s, persons, 0 if blind else len(seated), occupied, trusted, in_room))
    return Truth(
        clip=clip_name, scenario=spec.name, seed=spec.seed, width=spec.width, height=spec.height, fps=spec.fps,
        gop_s=spec.gop_s, duration_s=spec.duration_s, wall_start=spec.wall_start, camera=spec.camera_entry(),
        events=[TruthEvent(e["kind"], e["start_s"], e["end_s"], e.get("seat"), dict(e.get("details", {})))
                for e in spec.events],
        per_second=rows, primary_kind=spec.primary_kind, clock_style=spec.clock.as_dict(),
        room_name=spec.room_name, notes=spec.notes)


def truth_path(clip: str | Path) -> Path:
    clip = Path(clip)
    return clip.with_name(clip.name + ".truth.json")


def write_truth(truth: Truth, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(truth.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_truth(path: str | Path) -> Truth:
    """Read a ``.truth.json`` (or the truth next to a clip, given the clip's path)."""
    path = Path(path)
    if not path.name.endswith(".truth.json"):
        path = truth_path(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["wall_start"] = datetime.fromisoformat(raw["wall_start"])
    raw["events"] = [TruthEvent(**e) for e in raw["events"]]
    raw["per_second"] = [SecondTruth(**s) for s in raw["per_second"]]
    known = Truth.__dataclass_fields__
    return Truth(**{k: v for k, v in raw.items() if k in known})
