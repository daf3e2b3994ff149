"""Exam-point configuration: rooms, cameras, seats, invigilator zones and the session schedule.

An exam point (考点) is described by one YAML file, by convention ``exam_point.yaml`` at the
top of the exam-point directory. Paths in it are relative to that file. Pixel coordinates
are in the camera's own frame.

Example::

    exam_point: EP-HZ-01
    name: 杭州市某建筑安全培训考点
    city: 杭州市
    timezone: Asia/Shanghai
    sessions:
      - {id: S1, start: "2024-06-20 09:00", end: "2024-06-20 10:30"}
    rooms:
      - id: R1
        name: 第一考场
        cameras:
          - id: C1
            footage: [footage/R1-C1.mp4]
            invigilators_allowed: 1
            invigilator_zone: [[0, 0], [200, 0], [200, 120], [0, 120]]
            seats:
              - {seat: "01", polygon: [[100, 300], [220, 300], [220, 420], [100, 420]]}
    records:
      roster: records/roster.csv
      scores: records/scores.csv
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError

Point = tuple[float, float]


def _polygon(v: list[Point]) -> list[Point]:
    if len(v) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(v)}")
    if any(x < 0 or y < 0 for x, y in v):
        raise ValueError("polygon coordinates must be non-negative pixels")
    return v


class Seat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seat: str = Field(description="seat number as printed in the room, e.g. '07'")
    polygon: list[Point]
    candidate_id: str | None = Field(default=None, description="who the roster puts here, if known")

    @field_validator("polygon")
    @classmethod
    def _shape(cls, v: list[Point]) -> list[Point]:
        return _polygon(v)


class Camera(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    footage: list[str] = Field(default_factory=list, description="recordings, relative to the YAML file")
    footage_start: datetime | None = Field(
        default=None, description="wall-clock time of the first frame, when no on-screen clock says it"
    )
    invigilators_allowed: int = Field(default=1, ge=0)
    invigilator_zone: list[Point] | None = None
    seats: list[Seat] = Field(default_factory=list)

    @field_validator("invigilator_zone")
    @classmethod
    def _zone(cls, v: list[Point] | None) -> list[Point] | None:
        return None if v is None else _polygon(v)

    @model_validator(mode="after")
    def _unique_seats(self) -> "Camera":
        numbers = [s.seat for s in self.seats]
        dupes = sorted({n for n in numbers if numbers.count(n) > 1})
        if dupes:
            raise ValueError(f"seat numbers repeat: {', '.join(dupes)}")
        return self


class Room(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str | None = None
    cameras: list[Camera] = Field(min_length=1)


class Session(BaseModel):
    """One exam sitting (场次). Naive times are in the exam point's time zone."""

    model_config = ConfigDict(extra="forbid")

    id: str
    start: datetime
    end: datetime
    room: str | None = Field(default=None, description="limit to one room; default all rooms")
    subject: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Session":
        if self.end <= self.start:
            raise ValueError(f"session {self.id} ends ({self.end}) before it starts ({self.start})")
        return self


class RecordsFiles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roster: str | None = None
    scores: str | None = None
    responses: str | None = None
    callbacks: str | None = None
    certificates: str | None = None


class ExamPointConfig(BaseModel):
    """The validated content of an exam point's YAML, with paths resolved against ``base_dir``."""

    model_config = ConfigDict(extra="forbid")

    exam_point: str
    name: str | None = None
    city: str | None = None
    timezone: str = "Asia/Shanghai"
    sessions: list[Session] = Field(default_factory=list)
    rooms: list[Room] = Field(min_length=1)
    records: RecordsFiles = Field(default_factory=RecordsFiles)
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> "ExamPointConfig":
        cams = [(r.id, c.id) for r in self.rooms for c in r.cameras]
        if len(set(c for _, c in cams)) != len(cams):
            raise ValueError("camera ids must be unique within an exam point")
        room_ids = {r.id for r in self.rooms}
        for s in self.sessions:
            if s.room is not None and s.room not in room_ids:
                raise ValueError(f"session {s.id} names room {s.room!r}, which is not in rooms")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def aware(self, t: datetime) -> datetime:
        """Attach the exam point's zone to a naive time from the YAML or an on-screen clock."""
        return t if t.tzinfo is not None else t.replace(tzinfo=self.tz)

    def camera(self, camera_id: str) -> tuple[Room, Camera]:
        for room in self.rooms:
            for cam in room.cameras:
                if cam.id == camera_id:
                    return room, cam
        known = ", ".join(c.id for r in self.rooms for c in r.cameras)
        raise InputError(f"camera {camera_id!r} is not in exam point {self.exam_point} (cameras: {known})")

    def cameras(self) -> list[tuple[Room, Camera]]:
        return [(r, c) for r in self.rooms for c in r.cameras]

    def resolve(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    def sessions_for_room(self, room_id: str) -> list[Session]:
        return [s for s in self.sessions if s.room in (None, room_id)]


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_exam_point(path: str | Path) -> ExamPointConfig:
    """Read and validate an exam point's YAML.

    Raises:
        InputError: naming the file, the key path (e.g. ``rooms[0].cameras[1].seats[3].polygon``)
            and the problem, for the first few problems found.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("exam point config not found", path=path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise InputError(f"not valid YAML{at}: {getattr(exc, 'problem', exc)}", path=path) from None
    if not isinstance(raw, dict):
        raise InputError("expected a mapping at the top level (exam_point, rooms, sessions, ...)", path=path)
    try:
        cfg = ExamPointConfig.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = [f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise InputError("; ".join(problems) + more, path=path) from None
    return cfg
